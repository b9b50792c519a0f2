"""What observability shares across processes: platform links, attempt counts, incidents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, BigId, UTCDateTime


class PlatformLink(Base):
    """A long-lived platform connection (Slack Socket Mode, Discord gateway) of one process,
    reported every few seconds by the process that holds it."""

    __tablename__ = "platform_links"
    __table_args__ = (UniqueConstraint("platform", "instance"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(30))
    instance: Mapped[str] = mapped_column(String(200))
    connected: Mapped[bool] = mapped_column(Boolean)
    latency_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)  # when `connected` last changed
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UpstreamMinute(Base):
    """Upstream attempts and failures of one deployment in one minute, per process: every
    process writes its own row, readers add them up."""

    __tablename__ = "upstream_minutes"
    __table_args__ = (UniqueConstraint("deployment", "minute", "instance"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    deployment: Mapped[str] = mapped_column(String(200))
    minute: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    instance: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)


class AlertIncident(Base):
    """One firing of one alert rule for one subject, from fired to resolved. `open` is 1 while
    unresolved and NULL after: the unique constraint allows one open incident per rule and
    subject (NULLs never collide), so two evaluators cannot both fire it."""

    __tablename__ = "alert_incidents"
    __table_args__ = (UniqueConstraint("rule", "subject", "open"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    open: Mapped[int | None] = mapped_column(Integer, nullable=True, default=1)
