"""Budget-aware downgrade: `[models.<alias>] downgrade_at_percent = 90, downgrade_to = "<alias>"`.

A team whose spend this month (its `month` budget counter) has reached that share of its
monthly budget (`month` quota, cost limit) is answered by `downgrade_to` instead. The usage
record says `requested_alias = <alias>`, `routed_by = "downgrade"`; the answer's `notice`
carries one sentence saying so, once per team per month (remembered in this process: a hub
restart or another process may say it once more). A team without a monthly budget is never
downgraded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.config.models import ModelSettings
from hub.ledger.periods import period_start
from hub.store.ledger_tables import BudgetCounter, Quota


class Downgrades:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        self._told: set[tuple[int, date]] = set()

    async def month_share(self, team_id: int) -> float | None:
        """The share (0 to 1+) of the team's monthly budget spent, None without a budget."""
        start = period_start("month", self._clock.now())
        async with self._sessions() as session:
            limit = await session.scalar(
                select(Quota.cost_limit_micros).where(
                    Quota.scope == "team", Quota.scope_id == team_id, Quota.window == "month"
                )
            )
            if not limit:
                return None
            spent = await session.scalar(
                select(BudgetCounter.cost_spent_micros).where(
                    BudgetCounter.scope == "team",
                    BudgetCounter.scope_id == team_id,
                    BudgetCounter.window == "month",
                    BudgetCounter.period_start == start,
                )
            )
        return (spent or 0) / limit

    async def target(
        self, models: Mapping[str, ModelSettings], model: ModelSettings, team_id: int
    ) -> ModelSettings | None:
        """The alias to answer from instead of `model`, or None."""
        if model.downgrade_to is None or model.downgrade_at_percent is None:
            return None
        share = await self.month_share(team_id)
        if share is None or share * 100 < model.downgrade_at_percent:
            return None
        return models[model.downgrade_to]

    def notice_once(self, team_id: int, alias: str, to: str, percent: float) -> str | None:
        """The one-sentence notice, the first time this month for the team."""
        key = (team_id, period_start("month", self._clock.now()))
        if key in self._told:
            return None
        self._told.add(key)
        return (
            f"Your team has used over {percent:g}% of its monthly budget, so requests for "
            f"{alias} are answered by {to} until the budget resets."
        )
