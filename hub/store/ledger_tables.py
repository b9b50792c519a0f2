"""Tables of the ledger: teams, keys, members, quotas, counters, reservations, usage."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, BigId, UTCDateTime


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # Platform users who are not members: "open" lets them ask, "members_only" refuses them.
    member_policy: Mapped[str] = mapped_column(String(20), default="open")
    # Where budget notices go: a Slack or Discord channel ("slack", "C123").
    notify_platform: Mapped[str | None] = mapped_column(String(30), nullable=True)
    notify_channel: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Archived teams keep their ledger; their keys are revoked and nothing new is issued.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="member")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MemberIdentity(Base):
    """A platform account (Slack user in a workspace, Discord user) linked to a member."""

    __tablename__ = "member_identities"
    __table_args__ = (UniqueConstraint("platform", "workspace", "external_user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(30))
    workspace: Mapped[str] = mapped_column(String(100), default="")
    external_user_id: Mapped[str] = mapped_column(String(100))


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="member")
    prefix: Mapped[str] = mapped_column(String(32))
    # SHA-256 of the whole secret; the secret itself is shown once and never stored.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # During rotation the previous secret stays valid until `previous_valid_until`.
    previous_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    previous_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ip_allowlist: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Quota(Base):
    """A limit on one scope (team, member or key) for one calendar window (day or month)."""

    __tablename__ = "quotas"
    __table_args__ = (UniqueConstraint("scope", "scope_id", "window"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    scope_id: Mapped[int] = mapped_column(BigId)
    window: Mapped[str] = mapped_column(String(10))
    cost_limit_micros: Mapped[int | None] = mapped_column(BigId, nullable=True)
    token_limit: Mapped[int | None] = mapped_column(BigId, nullable=True)


class BudgetCounter(Base):
    """Running totals for one scope and window period; budget checks read these, not usage."""

    __tablename__ = "budget_counters"
    __table_args__ = (UniqueConstraint("scope", "scope_id", "window", "period_start"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    scope_id: Mapped[int] = mapped_column(BigId)
    window: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[date] = mapped_column(Date)
    cost_reserved_micros: Mapped[int] = mapped_column(BigId, default=0)
    cost_spent_micros: Mapped[int] = mapped_column(BigId, default=0)
    tokens_reserved: Mapped[int] = mapped_column(BigId, default=0)
    tokens_spent: Mapped[int] = mapped_column(BigId, default=0)


class Reservation(Base):
    """Money held for a request in flight. It belongs to the hub process (instance) that took
    it: when that instance's lease lapses, a live one releases it and writes the request's
    `interrupted` usage record from what is here (hub/ledger/recovery.py)."""

    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(BigId, index=True)
    counter_ids: Mapped[str] = mapped_column(Text)  # comma-separated budget_counters ids
    cost_micros: Mapped[int] = mapped_column(BigId)
    tokens: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    instance_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The request as its usage record needs it (caller, origin, alias, prompt estimate): JSON.
    context: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The stream's progress, checkpointed every few seconds while it runs.
    deployment: Mapped[str | None] = mapped_column(String(200), nullable=True)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    checkpoint_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class HubInstance(Base):
    """A running hub process (web, worker, discord) and its heartbeat: its lease."""

    __tablename__ = "hub_instances"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class UsageRecord(Base):
    __tablename__ = "usage_records"
    __table_args__ = (
        Index("ix_usage_team_created", "team_id", "created_at"),
        # The requests log: a team's latest records by id (`UsageReports.recent`).
        Index("ix_usage_team_id", "team_id", "id"),
        # Only the records an experiment routed: most have none, and an entry for their NULL
        # would cost every settlement index pages for a key nobody looks up (0023).
        Index(
            "ix_usage_records_experiment_id",
            "experiment_id",
            sqlite_where=text("experiment_id IS NOT NULL"),
            postgresql_where=text("experiment_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    key_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    member_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    connector: Mapped[str] = mapped_column(String(30))
    user: Mapped[str | None] = mapped_column(String(100), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(100), nullable=True)
    workspace: Mapped[str | None] = mapped_column(String(100), nullable=True)
    alias: Mapped[str] = mapped_column(String(100))
    deployment: Mapped[str | None] = mapped_column(String(200), nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    # Parts of the counts above: cache reads and writes of the prompt, reasoning of the answer.
    cached_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reasoning_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cost_micros: Mapped[int] = mapped_column(BigId, default=0)
    # True when the figures are the hub's estimate, not the provider's count (a request whose
    # process died: prompt from the reservation's estimate, completion from its checkpoint).
    estimated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    ttft_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Smart routing (#18). A `cached` record's provider cost is 0: `cost_micros` is what the
    # team was charged ([cache] charge), `saved_micros` the provider cost the hit avoided.
    saved_micros: Mapped[int] = mapped_column(BigId, default=0, server_default="0")
    # Auto-routed: the same usage priced at the strongest tier (savings are a ledger query).
    counterfactual_micros: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # The alias asked for, when routing answered from another (auto tier, budget downgrade,
    # experiment variant), and how: "auto:<tier>", "downgrade", "experiment".
    requested_alias: Mapped[str | None] = mapped_column(String(100), nullable=True)
    routed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    experiment_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    variant: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Cost suggestions (hub/suggestions.py): a hash of what shapes the answer (hub/prompt_hash.py;
    # never the text), and the deployment tried first when the router failed over from it.
    prompt_hash: Mapped[str | None] = mapped_column(String(32), nullable=True)
    first_deployment: Mapped[str | None] = mapped_column(String(200), nullable=True)
