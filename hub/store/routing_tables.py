"""Tables of smart routing (#18): answer feedback and A/B experiments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, BigId, UTCDateTime


class Feedback(Base):
    """👍 (+1) or 👎 (-1) on one answer, next to its usage record; one vote per person and
    platform, changed by voting again."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("usage_id", "source", "voter"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    usage_id: Mapped[int] = mapped_column(
        ForeignKey("usage_records.id", ondelete="CASCADE"), index=True
    )
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(30))  # slack, discord, openai_api
    voter: Mapped[str] = mapped_column(String(100))  # platform user id, or key:<id>
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Experiment(Base):
    """An A/B test on one alias: variants (an alias or a deployment each) with a split."""

    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    alias: Mapped[str] = mapped_column(String(100), index=True)
    # JSON: [{"name": "a", "target": "cheap", "share": 50}, ...] in the order given.
    variants: Mapped[str] = mapped_column(Text)
    sticky: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))  # draft, running, stopped
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)  # starts so far
