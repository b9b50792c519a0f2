"""Tables of dashboard sign-in: members' TOTP second factors and teams' two-factor rule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, UTCDateTime


class TotpFactor(Base):
    """A member's TOTP secret (encrypted with the hub's secret key), usable once confirmed.

    `last_step` is the 30-second step of the last code accepted: a code of that step or an
    earlier one is refused (RFC 6238 §5.2, no replay). Recovery codes are kept as SHA-256
    hashes (80 random bits each), one removed when it is used.
    """

    __tablename__ = "totp_factors"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    secret_encrypted: Mapped[str] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    recovery_hashes: Mapped[str] = mapped_column(Text, default="")  # space-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TwoFactorRule(Base):
    """A team whose members must sign in to the dashboard with a second factor."""

    __tablename__ = "two_factor_rules"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
