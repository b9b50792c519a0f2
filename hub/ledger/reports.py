"""Reading the ledger back: totals and breakdowns of usage records, and month-to-date status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Date, String, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.ledger.money import micros_to_usd
from hub.ledger.periods import period_start, resets_at
from hub.model import Caller
from hub.store.engine import dialect_name
from hub.store.ledger_tables import BudgetCounter, Quota, UsageRecord

GroupBy = Literal["model", "user", "connector", "day", "status", "key"]
# Every status a usage record can end with, reported even when none did (`--by status`).
STATUSES = ("ok", "error", "cancelled", "partial", "interrupted", "cached")


@dataclass(frozen=True, slots=True)
class UsageTotals:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_micros: int = 0
    cached_requests: int = 0  # answered from the response cache (#18)
    saved_micros: int = 0  # the provider cost those hits avoided
    cached_tokens: int = 0  # of prompt_tokens, read from a provider's cache
    reasoning_tokens: int = 0  # of completion_tokens

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "cost_usd": micros_to_usd(self.cost_micros),
            "cached_requests": self.cached_requests,
            "saved_usd": micros_to_usd(self.saved_micros),
        }


@dataclass(frozen=True, slots=True)
class MonthStatus:
    spent_micros: int
    tokens_spent: int
    budget_micros: int | None
    token_quota: int | None
    resets_at: datetime
    user_spent_micros: int
    user_tokens: int


_SUMS = (
    func.count(UsageRecord.id),
    func.coalesce(func.sum(UsageRecord.prompt_tokens), 0),
    func.coalesce(func.sum(UsageRecord.completion_tokens), 0),
    func.coalesce(func.sum(UsageRecord.cost_micros), 0),
    func.coalesce(func.sum(case((UsageRecord.status == "cached", 1), else_=0)), 0),
    func.coalesce(func.sum(UsageRecord.saved_micros), 0),
    func.coalesce(func.sum(UsageRecord.cached_tokens), 0),
    func.coalesce(func.sum(UsageRecord.reasoning_tokens), 0),
)


class UsageReports:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def month_start(self) -> datetime:
        start = period_start("month", self._clock.now())
        return datetime(start.year, start.month, 1, tzinfo=self._clock.now().tzinfo)

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
        query = _filtered(select(*_SUMS), team_id, since, until, user)
        query = _narrowed(query, member_id=member_id, alias=alias, connector=connector)
        async with self._sessions() as session:
            row = (await session.execute(query)).one()
        return UsageTotals(*(int(v) for v in row))

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
        column: Any = {
            "model": UsageRecord.alias,
            "user": func.coalesce(UsageRecord.connector + ":" + UsageRecord.user, "-"),
            "connector": UsageRecord.connector,
            "day": cast(UsageRecord.created_at, Date),
            "status": UsageRecord.status,
            "key": func.coalesce(cast(UsageRecord.key_id, String), "-"),
        }[by]
        async with self._sessions() as session:
            if by == "day" and dialect_name(session) == "sqlite":
                column = func.date(UsageRecord.created_at)
            query = _filtered(select(column, *_SUMS), team_id, since, until, None)
            query = _narrowed(query, member_id=member_id, alias=alias, connector=connector)
            rows = await session.execute(query.group_by(column).order_by(column))
            groups = [(str(key), UsageTotals(*(int(v) for v in rest))) for key, *rest in rows]
        if by == "status":
            found = dict(groups)
            order = [*STATUSES, *sorted(set(found) - set(STATUSES))]
            return [(status, found.get(status, UsageTotals())) for status in order]
        return groups

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


def _filtered(
    query: Any,
    team_id: int | None,
    since: datetime | None,
    until: datetime | None,
    user: str | None,
) -> Any:
    if team_id is not None:
        query = query.where(UsageRecord.team_id == team_id)
    if since is not None:
        query = query.where(UsageRecord.created_at >= since)
    if until is not None:
        query = query.where(UsageRecord.created_at < until)
    if user is not None:
        query = query.where(UsageRecord.user == user)
    return query


def _narrowed(
    query: Any, *, member_id: int | None, alias: str | None, connector: str | None
) -> Any:
    if member_id is not None:
        query = query.where(UsageRecord.member_id == member_id)
    if alias is not None:
        query = query.where(UsageRecord.alias == alias)
    if connector is not None:
        query = query.where(UsageRecord.connector == connector)
    return query
