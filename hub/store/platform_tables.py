"""Tables connectors share through the hub: deliveries, bindings, channel settings,
installations and OAuth states. They hold platform ids as plain strings; the hub does not
interpret them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, BigId, UTCDateTime


class Delivery(Base):
    """The first delivery of an external id wins; retries find this row and answer nothing."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("connector", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    connector: Mapped[str] = mapped_column(String(30))
    external_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | done
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Binding(Base):
    """A Slack workspace or Discord guild bound to the hub team that pays for it."""

    __tablename__ = "bindings"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(30))
    external_id: Mapped[str] = mapped_column(String(100))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChannelSetting(Base):
    __tablename__ = "channel_settings"
    __table_args__ = (UniqueConstraint("platform", "channel_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(30))
    channel_id: Mapped[str] = mapped_column(String(100))
    default_alias: Mapped[str | None] = mapped_column(String(100), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Installation(Base):
    """An app installation (e.g. Slack OAuth); the payload is encrypted with the secret box."""

    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(20))  # "installation" | "bot"
    enterprise_id: Mapped[str] = mapped_column(String(100), default="")
    workspace_id: Mapped[str] = mapped_column(String(100), default="")
    user_id: Mapped[str] = mapped_column(String(100), default="")
    data_encrypted: Mapped[str] = mapped_column(Text)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OAuthState(Base):
    __tablename__ = "oauth_states"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(200), unique=True)
    data: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
