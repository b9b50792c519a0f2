"""Deployment health from upstream attempts, shared across processes.

Each process counts its attempts per deployment and minute in memory (no database work on
the request path) and a background job writes its counts to `upstream_minutes` every few
seconds. Readers add up every process's rows:

    down (2)      the last `DOWN_AFTER` attempts (any process) failed, none succeeded since
    degraded (1)  at least a fifth of the attempts of the last five minutes failed
    healthy (0)   otherwise, and for a deployment nobody tried lately

The router's circuit (open: down, half-open: at least degraded) is combined with this in
`unillm_deployment_state` and `deployment_down` alerts (`combined_state`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.observability_tables import UpstreamMinute

if TYPE_CHECKING:
    from hub.ledger.writer import LedgerWriter

HEALTHY, DEGRADED, DOWN = 0, 1, 2
STATE_NAMES = {HEALTHY: "healthy", DEGRADED: "degraded", DOWN: "down"}
DOWN_AFTER = 3
DEGRADED_SHARE = 0.2
WINDOW = timedelta(minutes=5)
KEEP = timedelta(days=1)


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


@dataclass(slots=True)
class _Bucket:
    attempts: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    dirty: bool = True


class AttemptLog:
    """This process's attempts per (deployment, minute); `flush` writes the changed ones."""

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self._buckets: dict[tuple[str, int], _Bucket] = {}  # (deployment, epoch minute)
        self._streak: dict[str, int] = {}

    def record(self, deployment: str, *, failed: bool, now: datetime) -> None:
        key = (deployment, int(now.timestamp()) // 60)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket()
        bucket.attempts += 1
        streak = self._streak.get(deployment, 0) + 1 if failed else 0
        self._streak[deployment] = streak
        bucket.failures += failed
        bucket.consecutive_failures = streak
        bucket.dirty = True

    async def flush(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        now: datetime,
        writer: LedgerWriter | None = None,
    ) -> int:
        """Write the changed counts; through the ledger writer when given (SQLite: its one
        writer connection, in a batch with chat's, rather than the write lock taken on
        another connection, where a ledger batch finding it busy had to wait for it)."""
        changed = [(k, b) for k, b in self._buckets.items() if b.dirty]
        if changed:
            rows = [
                {
                    "deployment": deployment,
                    "minute": datetime.fromtimestamp(epoch_minute * 60, tz=UTC),
                    "instance": self.instance,
                    "attempts": bucket.attempts,
                    "failures": bucket.failures,
                    "consecutive_failures": bucket.consecutive_failures,
                }
                for (deployment, epoch_minute), bucket in changed
            ]
            for _, bucket in changed:
                bucket.dirty = False  # a later attempt marks it again
            try:
                if writer is not None and not writer.closed:
                    await writer.run(lambda tx: _write_minutes(tx.conn, rows, now))
                else:
                    async with sessions.begin() as session:
                        await session.run_sync(lambda s: _write_minutes(s.connection(), rows, now))
            except BaseException:
                for _, bucket in changed:
                    bucket.dirty = True  # written next time
                raise
        cutoff = int((now - WINDOW).timestamp()) // 60
        for key in [k for k, b in self._buckets.items() if k[1] < cutoff and not b.dirty]:
            del self._buckets[key]
        return len(changed)


_MINUTE_COUNTS = ("attempts", "failures", "consecutive_failures")


def _write_minutes(conn: Connection, rows: list[dict[str, object]], now: datetime) -> None:
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    upsert = insert(UpstreamMinute)
    upsert = upsert.on_conflict_do_update(
        index_elements=["deployment", "minute", "instance"],
        set_={name: upsert.excluded[name] for name in _MINUTE_COUNTS},
    )
    conn.execute(upsert, rows)
    conn.execute(delete(UpstreamMinute).where(UpstreamMinute.minute < now - KEEP))


@dataclass(frozen=True, slots=True)
class DeploymentHealth:
    deployment: str
    state: int
    attempts: int
    failures: int

    @property
    def error_rate(self) -> float:
        return self.failures / self.attempts if self.attempts else 0.0


async def error_counts(session: AsyncSession, *, since: datetime) -> dict[str, tuple[int, int]]:
    """Attempts and failures per deployment since `since` (whole minutes), all processes."""
    rows = await session.execute(
        select(
            UpstreamMinute.deployment,
            func.sum(UpstreamMinute.attempts),
            func.sum(UpstreamMinute.failures),
        )
        .where(UpstreamMinute.minute >= minute_of(since))
        .group_by(UpstreamMinute.deployment)
    )
    return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in rows}


async def deployment_health(
    session: AsyncSession, *, deployments: Iterable[str], now: datetime
) -> list[DeploymentHealth]:
    counts = await error_counts(session, since=now - WINDOW)
    latest = await session.execute(
        select(UpstreamMinute).where(UpstreamMinute.minute >= minute_of(now - WINDOW))
    )
    streaks: dict[str, list[UpstreamMinute]] = {}
    for row in latest.scalars():
        streaks.setdefault(row.deployment, []).append(row)
    found = []
    for name in dict.fromkeys([*deployments, *counts]):
        attempts, failures = counts.get(name, (0, 0))
        found.append(
            DeploymentHealth(
                name, _state(attempts, failures, streaks.get(name, [])), attempts, failures
            )
        )
    return found


def combined_state(state: int, circuit: str) -> int:
    """The router's circuit (hub/routing: shared across processes) wins when it says more:
    open is down, half-open (probing) is at least degraded."""
    if circuit == "open":
        return DOWN
    if circuit == "half_open":
        return max(state, DEGRADED)
    return state


def _state(attempts: int, failures: int, rows: Sequence[UpstreamMinute]) -> int:
    if not attempts:
        return HEALTHY
    # Each process's latest minute says how its own most recent attempts went.
    newest: dict[str, UpstreamMinute] = {}
    for row in rows:
        if row.instance not in newest or row.minute > newest[row.instance].minute:
            newest[row.instance] = row
    streak_ok = all(r.consecutive_failures > 0 for r in newest.values())
    if streak_ok and sum(r.consecutive_failures for r in newest.values()) >= DOWN_AFTER:
        return DOWN
    if failures / attempts >= DEGRADED_SHARE:
        return DEGRADED
    return HEALTHY
