"""Reading the ledger back: totals and breakdowns (from the rollups), and month-to-date status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.ledger.histograms import Measure, read_histograms
from hub.ledger.insight_reads import Repeats, SizedUsage, read_repeats, read_sizes
from hub.ledger.latency_bins import Histogram
from hub.ledger.periods import period_start, resets_at
from hub.ledger.summary import (
    EVERYTHING,
    RECORDS,
    Dimension,
    GroupValue,
    UsageFilter,
    UsageSummary,
    summarize,
)
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_totals import UsageTotals
from hub.model import Caller
from hub.store.ledger_tables import BudgetCounter, Quota, UsageRecord
from hub.store.rollup_tables import UsageRollupStaged

__all__ = ["GroupBy", "MonthStatus", "STATUSES", "UsageReports", "UsageTotals"]

GroupBy = Literal["model", "user", "connector", "day", "status", "key"]
# Every status a usage record can end with, reported even when none did (`--by status`).
STATUSES = ("ok", "error", "cancelled", "partial", "interrupted", "cached")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the requests log shows it."""

    id: int
    request_id: str
    at: datetime
    team_id: int
    member_id: int | None
    key_id: int | None
    connector: str
    user: str | None
    channel: str | None
    workspace: str | None
    alias: str
    deployment: str | None
    status: str
    prompt_tokens: int
    completion_tokens: int
    cost_micros: int
    latency_ms: int
    ttft_ms: int | None

    @classmethod
    def of(cls, row: UsageRecord) -> RecordedRequest:
        return cls(**{name: getattr(row, "created_at" if name == "at" else name)
                      for name in cls.__dataclass_fields__})  # fmt: skip

    @classmethod
    def from_entry(cls, entry: UsageEntry, *, at: datetime) -> RecordedRequest:
        """A usage record just committed, as the feed hands it over (no row id yet: 0)."""
        return cls(
            id=0, request_id=entry.request_id, at=at, team_id=entry.caller.team_id,
            member_id=entry.caller.member_id, key_id=entry.caller.key_id,
            connector=entry.origin.connector, user=entry.origin.user,
            channel=entry.origin.channel, workspace=entry.origin.workspace,
            alias=entry.alias, deployment=entry.deployment,
            status=entry.status, prompt_tokens=entry.usage.prompt_tokens,
            completion_tokens=entry.usage.completion_tokens, cost_micros=entry.cost_micros,
            latency_ms=entry.latency_ms, ttft_ms=entry.ttft_ms,
        )  # fmt: skip


def matches(where: UsageFilter, row: RecordedRequest) -> bool:
    """Whether `row` is one `recent(where=...)` would list (the live tail's test; the same
    fields as the summaries' conditions on usage records, `RECORDS.conditions`)."""
    simple = (
        (where.team_id, row.team_id), (where.member_id, row.member_id),
        (where.key_id, row.key_id), (where.user, row.user), (where.model, row.alias),
        (where.deployment, row.deployment), (where.connector, row.connector),
        (where.status, row.status),
    )  # fmt: skip
    if any(wanted is not None and wanted != found for wanted, found in simple):
        return False
    placed = (
        (where.slack_workspace, "slack", row.workspace),
        (where.slack_channel, "slack", row.channel),
        (where.discord_guild, "discord", row.workspace),
        (where.discord_channel, "discord", row.channel),
    )
    return all(
        wanted is None or (row.connector == platform and found == wanted)
        for wanted, platform, found in placed
    )


@dataclass(frozen=True, slots=True)
class MonthStatus:
    spent_micros: int
    tokens_spent: int
    budget_micros: int | None
    token_quota: int | None
    resets_at: datetime
    user_spent_micros: int
    user_tokens: int


async def serial_plans(session: AsyncSession) -> None:
    """No parallel workers for this read's transaction on PostgreSQL. A summary's or a
    histogram's UNION ALL of a few dozen bounded index scans (a few hundred rollup rows each)
    was planned as a Parallel Append: starting the workers cost more than the scans (a 28-day
    read by local day at 1M records, EXPLAIN ANALYZE: 29-38 ms with workers, 3-9 ms
    without)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


_ANY_STAGED = select(UsageRollupStaged.id).limit(1)


class UsageReports:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        fold: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        # Staged rollup facts folded in before each read of the rollups (hub/ledger/fold.py).
        self._fold = fold

    async def folded(self) -> None:
        """Every record committed so far in the rollups: the staged facts folded, through the
        writer. Only when there are any (looked up on a reader's connection of its own, so
        its snapshot is not the report's): a report waits for the writer only then (SQLite: a
        write lock held elsewhere holds up no report of folded usage)."""
        if self._fold is None:
            return
        async with self._sessions() as session:
            staged = await session.scalar(_ANY_STAGED)
        if staged is not None:
            await self._fold()

    def month_start(self) -> datetime:
        start = period_start("month", self._clock.now())
        return datetime(start.year, start.month, 1, tzinfo=self._clock.now().tzinfo)

    async def summary(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        zone: tzinfo = UTC,
        where: UsageFilter = EVERYTHING,
        group_by: Sequence[Dimension] = (),
    ) -> UsageSummary:
        """Totals of [since, until), filtered and grouped, read from the hourly rollups
        (hub/ledger/summary.py); `day` and `hour` groups are local to `zone`."""
        await self.folded()

        async with self._sessions() as session:
            await serial_plans(session)
            return await summarize(
                session, since=since, until=until, zone=zone, where=where, group_by=group_by
            )

    async def histograms(
        self,
        measure: Measure,
        *,
        since: datetime | None,
        until: datetime | None,
        zone: tzinfo = UTC,
        where: UsageFilter = EVERYTHING,
        group_by: Sequence[Dimension] = (),
    ) -> dict[tuple[GroupValue, ...], Histogram]:
        """Latency or time-to-first-token histograms of [since, until) per group, merged from
        the rollups' bins: `.percentile(0.95)` of one is the p95 (hub/ledger/latency_bins.py)."""
        await self.folded()

        async with self._sessions() as session:
            await serial_plans(session)
            return await read_histograms(
                session, measure=measure, since=since, until=until, zone=zone, where=where,
                group_by=group_by,
            )  # fmt: skip

    async def sizes(self, *, team_id: int, since: datetime, until: datetime) -> list[SizedUsage]:
        """The team's usage by place, model and size class over whole UTC days."""
        await self.folded()

        async with self._sessions() as session:
            return await read_sizes(session, team_id=team_id, since=since, until=until)

    async def repeats(self, *, team_id: int, since: datetime, until: datetime) -> list[Repeats]:
        """Per model, the team's requests identical to an earlier one in [since, until)."""
        await self.folded()

        async with self._sessions() as session:
            return await read_repeats(session, team_id=team_id, since=since, until=until)

    async def totals(
        self,
        *,
        team_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        user: str | None = None,
        member_id: int | None = None,
        alias: str | None = None,
        connector: str | None = None,
    ) -> UsageTotals:
        where = UsageFilter(
            team_id=team_id, user=user, member_id=member_id, model=alias, connector=connector
        )
        return (await self.summary(since=since, until=until, where=where)).total

    async def grouped(
        self,
        by: GroupBy,
        *,
        team_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        member_id: int | None = None,
        alias: str | None = None,
        connector: str | None = None,
    ) -> list[tuple[str, UsageTotals]]:
        """One breakdown as `hub usage --by` and the admin API show it (UTC days)."""
        where = UsageFilter(team_id=team_id, member_id=member_id, model=alias, connector=connector)
        summary = await self.summary(since=since, until=until, where=where, group_by=(by,))
        groups = [("-" if r.group[0] is None else str(r.group[0]), r.totals) for r in summary.rows]
        if by == "status":
            found = dict(groups)
            order = [*STATUSES, *sorted(set(found) - set(STATUSES))]
            return [(status, found.get(status, UsageTotals())) for status in order]
        return groups

    async def recent(
        self, *, where: UsageFilter = EVERYTHING, before_id: int | None = None, limit: int = 50
    ) -> list[RecordedRequest]:
        """The latest usage records that match `where`, newest first (a page of the requests
        log; `before_id` pages back). Prompts and answers are not part of a usage record."""
        query = select(UsageRecord).order_by(UsageRecord.id.desc()).limit(limit)
        query = query.where(*RECORDS.conditions(where))
        if before_id is not None:
            query = query.where(UsageRecord.id < before_id)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [RecordedRequest.of(row) for row in rows]

    async def month_status(self, caller: Caller, *, user: str | None = None) -> MonthStatus:
        now = self._clock.now()
        async with self._sessions() as session:
            counter = await session.scalar(
                select(BudgetCounter).where(
                    BudgetCounter.scope == "team",
                    BudgetCounter.scope_id == caller.team_id,
                    BudgetCounter.window == "month",
                    BudgetCounter.period_start == period_start("month", now),
                )
            )
            quota = await session.scalar(
                select(Quota).where(
                    Quota.scope == "team", Quota.scope_id == caller.team_id, Quota.window == "month"
                )
            )
        mine = (
            await self.totals(team_id=caller.team_id, since=self.month_start(), user=user)
            if user
            else UsageTotals()
        )
        return MonthStatus(
            spent_micros=counter.cost_spent_micros if counter else 0,
            tokens_spent=counter.tokens_spent if counter else 0,
            budget_micros=quota.cost_limit_micros if quota else None,
            token_quota=quota.token_limit if quota else None,
            resets_at=resets_at("month", now),
            user_spent_micros=mine.cost_micros,
            user_tokens=mine.prompt_tokens + mine.completion_tokens,
        )
