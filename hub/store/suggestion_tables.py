"""The latest cost suggestions computed for each team (hub/suggestion_reports.py), so that a
page or the weekly report reads one row instead of a month of prompt hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, BigId, UTCDateTime


class StoredSuggestions(Base):
    __tablename__ = "suggestion_reports"

    team_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime] = mapped_column(UTCDateTime)  # the window: [since, until), UTC
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The suggestions as JSON: each one's kind, template, params, saving and figures (counts
    # and money; a place's names; never a prompt).
    body: Mapped[str] = mapped_column(Text)
