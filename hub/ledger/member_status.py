"""A member's own limits and what is left of them, read from the budget counters the ledger
keeps (the same numbers admission checks), for `/ask usage` and similar views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.ledger.money import format_usd
from hub.ledger.periods import WINDOWS, describe_reset, period_start, resets_at
from hub.store.ledger_tables import BudgetCounter, Quota


@dataclass(frozen=True, slots=True)
class MemberLimit:
    """One member quota (a window) with what has been spent in the current period."""

    window: str  # day | month
    cost_limit_micros: int | None
    token_limit: int | None
    cost_spent_micros: int
    tokens_spent: int
    resets_at: datetime

    @property
    def cost_left_micros(self) -> int | None:
        if self.cost_limit_micros is None:
            return None
        return max(0, self.cost_limit_micros - self.cost_spent_micros)

    @property
    def tokens_left(self) -> int | None:
        return None if self.token_limit is None else max(0, self.token_limit - self.tokens_spent)

    def describe(self) -> str:
        """One line: `Your monthly limit: $5.00 ($4.20 left), resets 2026-12-01 00:00 UTC.`"""
        parts = []
        if self.cost_limit_micros is not None:
            left = format_usd(self.cost_left_micros or 0)
            parts.append(f"{format_usd(self.cost_limit_micros)} ({left} left)")
        if self.token_limit is not None:
            parts.append(f"{self.token_limit:,} tokens ({self.tokens_left or 0:,} left)")
        window = "daily" if self.window == "day" else "monthly"
        return (
            f"Your {window} limit: {' and '.join(parts)}, resets {describe_reset(self.resets_at)}."
        )


async def member_limits(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, *, member_id: int
) -> list[MemberLimit]:
    """The member's quotas, daily first; empty when the member has none."""
    now = clock.now()
    async with sessions() as session:
        quotas = {
            q.window: q
            for q in await session.scalars(
                select(Quota).where(Quota.scope == "member", Quota.scope_id == member_id)
            )
        }
        found: list[MemberLimit] = []
        for window in WINDOWS:
            quota = quotas.get(window)
            if quota is None or (quota.cost_limit_micros is None and quota.token_limit is None):
                continue
            counter = await session.scalar(
                select(BudgetCounter).where(
                    BudgetCounter.scope == "member",
                    BudgetCounter.scope_id == member_id,
                    BudgetCounter.window == window,
                    BudgetCounter.period_start == period_start(window, now),
                )
            )
            found.append(
                MemberLimit(
                    window=window,
                    cost_limit_micros=quota.cost_limit_micros,
                    token_limit=quota.token_limit,
                    cost_spent_micros=counter.cost_spent_micros if counter else 0,
                    tokens_spent=counter.tokens_spent if counter else 0,
                    resets_at=resets_at(window, now),
                )
            )
    return found
