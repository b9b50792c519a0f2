"""Budget thresholds (80% and 100%): announced once per scope, window, period and metric."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.events.outbox import EventSink
from hub.ledger.money import micros_to_usd
from hub.ledger.periods import resets_at
from hub.model import Caller
from hub.store.event_tables import BudgetAlert
from hub.store.ledger_tables import BudgetCounter, Quota

THRESHOLDS = (80, 100)


async def announce_thresholds(
    session: AsyncSession,
    *,
    events: EventSink,
    caller: Caller,
    before: Mapping[int, tuple[int, int]],
    now: datetime,
) -> list[dict[str, object]]:
    """Compare spend before and after this settle; emit `budget.threshold` for crossings."""
    announced: list[dict[str, object]] = []
    counters = await session.scalars(
        select(BudgetCounter).where(BudgetCounter.id.in_(list(before)))
    )
    for counter in counters:
        quota = await session.scalar(
            select(Quota).where(
                Quota.scope == counter.scope,
                Quota.scope_id == counter.scope_id,
                Quota.window == counter.window,
            )
        )
        if quota is None:
            continue
        old_cost, old_tokens = before[counter.id]
        for metric, limit, old, new in (
            ("cost", quota.cost_limit_micros, old_cost, counter.cost_spent_micros),
            ("tokens", quota.token_limit, old_tokens, counter.tokens_spent),
        ):
            if not limit:
                continue
            for percent in THRESHOLDS:
                mark = limit * percent / 100
                if not (old < mark <= new):
                    continue
                if not await _first_time(session, counter, metric, percent, now):
                    continue
                data: dict[str, object] = {
                    "team": caller.team_name,
                    "scope": counter.scope,
                    "scope_id": counter.scope_id,
                    "window": counter.window,
                    "period": counter.period_start.isoformat(),
                    "metric": metric,
                    "threshold_percent": percent,
                    "limit": micros_to_usd(limit) if metric == "cost" else limit,
                    "used": micros_to_usd(new) if metric == "cost" else new,
                    "resets_at": resets_at(counter.window, now).isoformat(),
                }
                await events.emit(
                    session, team_id=caller.team_id, type="budget.threshold", data=data
                )
                announced.append(data)
    return announced


async def _first_time(
    session: AsyncSession, counter: BudgetCounter, metric: str, percent: int, now: datetime
) -> bool:
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(BudgetAlert)
        .values(
            scope=counter.scope,
            scope_id=counter.scope_id,
            window=counter.window,
            period=counter.period_start.isoformat(),
            metric=metric,
            threshold=percent,
            created_at=now,
        )
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
