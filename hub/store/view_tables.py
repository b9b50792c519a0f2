"""Saved views ("custom dashboards"): a team's named usage explorer queries (hub/saved_views.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, BigId, UTCDateTime


class SavedView(Base):
    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    # The explorer's URL query (`group_by=model&from=…&tz=…&model=…`), without the team.
    query: Mapped[str] = mapped_column(String(2000))
    created_by: Mapped[str] = mapped_column(String(200))  # the audit actor
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
