"""What cost suggestions read: a team's requests by place, model and size class (the `size`
cube, whole UTC days), and its repeated requests (by prompt hash, from the records)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.ledger.cubes import SIZE_CLASSES
from hub.ledger.summary_plan import floor_day
from hub.ledger.usage_totals import UsageTotals
from hub.store.ledger_tables import UsageRecord
from hub.store.rollup_tables import UsageRollup


@dataclass(frozen=True, slots=True)
class SizedUsage:
    """The requests of one place, model and status whose prompts and answers have these
    size classes (hub/ledger/cubes.size_class: class k is under 2^k tokens)."""

    connector: str
    workspace: str | None
    channel: str | None
    alias: str
    status: str
    prompt_class: int
    completion_class: int
    totals: UsageTotals


async def read_sizes(
    session: AsyncSession, *, team_id: int, since: datetime, until: datetime
) -> list[SizedUsage]:
    """[since, until), both UTC midnights (the size cube keeps days only)."""
    if floor_day(since) != since or floor_day(until) != until:
        raise ValueError("size classes are kept per UTC day")
    c = UsageRollup.__table__.c
    keys = (c.connector, c.workspace, c.channel, c.alias, c.status, c.bin)
    query = (
        select(*keys, func.sum(c.requests), func.sum(c.prompt_tokens),
               func.sum(c.completion_tokens), func.sum(c.cost_micros),
               func.sum(c.cached_tokens), func.sum(c.reasoning_tokens),
               func.sum(c.cache_write_tokens))
        .where(c.team_id == team_id, c.cube == "size", c.grain == "day",
               c.bucket >= since, c.bucket < until)
        .group_by(*keys)
    )  # fmt: skip
    found = []
    for row in await session.execute(query):
        connector, workspace, channel, alias, status, bin_, n, p, o, cost, cached, rsn, cw = row
        if not n:
            continue
        totals = UsageTotals(
            requests=int(n), prompt_tokens=int(p), completion_tokens=int(o),
            cost_micros=int(cost), cached_tokens=int(cached), reasoning_tokens=int(rsn),
            cache_write_tokens=int(cw),
        )  # fmt: skip
        found.append(
            SizedUsage(connector, workspace or None, channel or None, alias, status,
                       int(bin_) // SIZE_CLASSES, int(bin_) % SIZE_CLASSES, totals)
        )  # fmt: skip
    return found


@dataclass(frozen=True, slots=True)
class Repeats:
    """Of one model's requests, those that repeated an identical earlier one in the range."""

    alias: str
    requests: int  # every request with a hash, cache hits left out
    repeated: int
    repeated_cost_micros: int
    distinct_repeated: int  # how many different requests came back


async def read_repeats(
    session: AsyncSession, *, team_id: int, since: datetime, until: datetime
) -> list[Repeats]:
    """Per model: requests whose prompt hash came earlier in [since, until). Answers the cache
    served (`cached`) are neither counted nor priced: they were not paid for twice."""
    r = UsageRecord.__table__.c
    order = func.row_number().over(partition_by=r.prompt_hash, order_by=(r.created_at, r.id))
    ranked = (
        select(r.alias, r.status, r.cost_micros, order.label("n"))
        .where(r.team_id == team_id, r.created_at >= since, r.created_at < until,
               r.prompt_hash.is_not(None))
        .subquery()
    )  # fmt: skip
    fresh = ranked.c.status != "cached"
    again = ranked.c.n > 1
    repeat = and_(fresh, again)
    query = select(
        ranked.c.alias,
        func.sum(case((fresh, 1), else_=0)),
        func.sum(case((repeat, 1), else_=0)),
        func.sum(case((repeat, ranked.c.cost_micros), else_=0)),
        func.sum(case((ranked.c.n == 2, 1), else_=0)),
    ).group_by(ranked.c.alias)
    return [
        Repeats(str(alias), int(n or 0), int(again_n or 0), int(cost or 0), int(distinct or 0))
        for alias, n, again_n, cost, distinct in await session.execute(query)
    ]
