"""What a caller may still hold: the least room left on any limited counter of the request's
scopes (team, member, key; day and month), in cost and in tokens. Read only when the full
worst case did not fit, to size the answer down to what is left (hub/ledger/sizing.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.ledger.periods import period_start
from hub.ledger.quotas import QuotaLimit
from hub.model import Caller
from hub.store.ledger_tables import BudgetCounter


@dataclass(frozen=True, slots=True)
class Room:
    """None: no limit on that axis. Negative when a provider's count went past the limit."""

    cost_micros: int | None = None
    tokens: int | None = None

    def fits(self, *, cost_micros: int, tokens: int) -> bool:
        return (self.cost_micros is None or cost_micros <= self.cost_micros) and (
            self.tokens is None or tokens <= self.tokens
        )


def tracked_counters(
    caller: Caller, quotas: Sequence[QuotaLimit]
) -> dict[tuple[str, int, str], QuotaLimit | None]:
    """Every counter this caller's request moves: those with a quota, and the team's month."""
    tracked: dict[tuple[str, int, str], QuotaLimit | None] = {
        ("team", caller.team_id, "month"): None
    }
    for quota in quotas:
        tracked[(quota.scope, quota.scope_id, quota.window)] = quota
    return tracked


def _least(current: int | None, candidate: int | None) -> int | None:
    if candidate is None:
        return current
    return candidate if current is None else min(current, candidate)


async def room_left(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    caller: Caller,
    quotas: Sequence[QuotaLimit],
) -> Room:
    now = clock.now()
    cost: int | None = None
    tokens: int | None = None
    async with sessions() as session:
        tracked = tracked_counters(caller, quotas)
        for (scope, scope_id, window), quota in tracked.items():
            if quota is None:
                continue
            counter = await session.scalar(
                select(BudgetCounter).where(
                    BudgetCounter.scope == scope,
                    BudgetCounter.scope_id == scope_id,
                    BudgetCounter.window == window,
                    BudgetCounter.period_start == period_start(window, now),
                )
            )
            cost_used = counter.cost_spent_micros + counter.cost_reserved_micros if counter else 0
            tokens_used = counter.tokens_spent + counter.tokens_reserved if counter else 0
            if quota.cost_limit_micros is not None:
                cost = _least(cost, quota.cost_limit_micros - cost_used)
            if quota.token_limit is not None:
                tokens = _least(tokens, quota.token_limit - tokens_used)
    return Room(cost_micros=cost, tokens=tokens)
