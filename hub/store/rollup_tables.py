"""Usage rolled up by UTC quarter hour and UTC day, in a few cubes: what every report reads instead
of scanning usage records (hub/ledger/rollups.py writes them, hub/ledger/summary.py reads)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, BigId, UTCDateTime

# The dimensions a rollup row can keep (hub/ledger/cubes.py picks per cube), each the usage
# record's column of the same name. The one list: the rollup key, the cubes and the writer
# (hub/ledger/rollups.py) are all built from it.
DIMENSION_COLUMNS = (
    "team_id",
    "member_id",
    "key_id",
    "user",
    "connector",
    "workspace",
    "channel",
    "alias",
    "deployment",
    "status",
)
# What a rollup row is unique by. Absent values, and dimensions a cube leaves out, are stored
# as 0 / "" rather than NULL, because NULLs are distinct in a unique constraint. `bin`: the
# measure's bin in a measure cube (hub/ledger/cubes.py), 0 elsewhere.
ROLLUP_KEY = ("cube", "grain", "bucket", *DIMENSION_COLUMNS, "bin")


class UsageRollup(Base):
    """The sums of the usage records of one bucket (a UTC quarter hour or day) that agree on the
    cube's dimensions. Written in the same transaction as each record, so it never drifts."""

    __tablename__ = "usage_rollups"
    __table_args__ = (
        UniqueConstraint(*ROLLUP_KEY, name="uq_usage_rollups_key"),
        Index("ix_usage_rollups_team_bucket", "team_id", "cube", "grain", "bucket"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cube: Mapped[str] = mapped_column(String(10))  # which dimensions (hub/ledger/cubes.py)
    grain: Mapped[str] = mapped_column(String(4))  # "15m" or "day" (hub/ledger/cubes.py)
    bucket: Mapped[datetime] = mapped_column(UTCDateTime)  # the quarter's or day's start, UTC
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(BigId)  # 0: no member
    key_id: Mapped[int] = mapped_column(BigId)  # 0: no key
    user: Mapped[str] = mapped_column(String(100))  # "": none
    connector: Mapped[str] = mapped_column(String(30))
    workspace: Mapped[str] = mapped_column(String(100))  # Slack workspace / Discord guild
    channel: Mapped[str] = mapped_column(String(100))
    alias: Mapped[str] = mapped_column(String(100))
    deployment: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    # The measure's bin in a measure cube (hub/ledger/latency_bins.py); 0 in the others.
    bin: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    requests: Mapped[int] = mapped_column(BigId)
    prompt_tokens: Mapped[int] = mapped_column(BigId)
    completion_tokens: Mapped[int] = mapped_column(BigId)
    cached_tokens: Mapped[int] = mapped_column(BigId)
    cache_write_tokens: Mapped[int] = mapped_column(BigId)
    reasoning_tokens: Mapped[int] = mapped_column(BigId)
    cost_micros: Mapped[int] = mapped_column(BigId)
    saved_micros: Mapped[int] = mapped_column(BigId)
    latency_ms: Mapped[int] = mapped_column(BigId)  # sum; mean = latency_ms / requests
    ttft_ms: Mapped[int] = mapped_column(BigId)  # sum over the requests that had one
    ttft_requests: Mapped[int] = mapped_column(BigId)


class UsageRollupStaged(Base):
    """A settled usage record's rollup facts, not yet in `usage_rollups` (hub/ledger/fold.py):
    the settlement stages one row here, in the record's own transaction, instead of upserting
    its twenty-four rollup rows; a fold moves staged facts into the rollups, deleting them in
    the same transaction, before any report reads them. The columns are hub/ledger/
    pg_rollups.py's `FACT_COLUMNS` (PostgreSQL's composite `usage_rollup_fact`), in order:
    the dimensions (absent ones 0 / ""), the deployment tried first, the bucket at each
    grain, the bin in each measure (NULL: no such measure) and the sums."""

    __tablename__ = "usage_rollup_staged"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(BigId)
    key_id: Mapped[int] = mapped_column(BigId)
    user: Mapped[str] = mapped_column(String(100))
    connector: Mapped[str] = mapped_column(String(30))
    workspace: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(100))
    alias: Mapped[str] = mapped_column(String(100))
    deployment: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    first_deployment: Mapped[str | None] = mapped_column(String(200), nullable=True)
    bucket_15m: Mapped[datetime] = mapped_column(UTCDateTime)
    bucket_30m: Mapped[datetime] = mapped_column(UTCDateTime)
    bucket_1h: Mapped[datetime] = mapped_column(UTCDateTime)
    bucket_6h: Mapped[datetime] = mapped_column(UTCDateTime)
    bucket_day: Mapped[datetime] = mapped_column(UTCDateTime)
    bin_latency: Mapped[int | None] = mapped_column(Integer)
    bin_ttft: Mapped[int | None] = mapped_column(Integer)
    bin_failover: Mapped[int | None] = mapped_column(Integer)
    bin_size: Mapped[int | None] = mapped_column(Integer)
    requests: Mapped[int] = mapped_column(BigId)
    prompt_tokens: Mapped[int] = mapped_column(BigId)
    completion_tokens: Mapped[int] = mapped_column(BigId)
    cached_tokens: Mapped[int] = mapped_column(BigId)
    cache_write_tokens: Mapped[int] = mapped_column(BigId)
    reasoning_tokens: Mapped[int] = mapped_column(BigId)
    cost_micros: Mapped[int] = mapped_column(BigId)
    saved_micros: Mapped[int] = mapped_column(BigId)
    latency_ms: Mapped[int] = mapped_column(BigId)
    ttft_ms: Mapped[int] = mapped_column(BigId)
    ttft_requests: Mapped[int] = mapped_column(BigId)
