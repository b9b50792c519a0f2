"""Teams and their quotas."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.errors import BadRequest, NotFound
from hub.store.ledger_tables import Quota, Team


@dataclass(frozen=True, slots=True)
class QuotaSpec:
    scope: str  # team | member | key
    scope_id: int
    window: str  # day | month
    cost_limit_micros: int | None
    token_limit: int | None


class Teams:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def create(
        self,
        name: str,
        *,
        monthly_budget_micros: int | None = None,
        monthly_token_quota: int | None = None,
    ) -> Team:
        name = name.strip()
        if not name or len(name) > 100:
            raise BadRequest("A team name must be 1 to 100 characters.")
        async with self._sessions.begin() as session:
            team = Team(name=name, created_at=self._clock.now())
            session.add(team)
            try:
                await session.flush()
            except IntegrityError as exc:
                raise BadRequest(f"A team named '{name}' already exists.") from exc
            if monthly_budget_micros is not None or monthly_token_quota is not None:
                session.add(
                    Quota(
                        scope="team",
                        scope_id=team.id,
                        window="month",
                        cost_limit_micros=monthly_budget_micros,
                        token_limit=monthly_token_quota,
                    )
                )
        return team

    async def get(self, name: str) -> Team:
        async with self._sessions() as session:
            team = await session.scalar(select(Team).where(Team.name == name))
        if team is None:
            raise NotFound(f"No team named '{name}'.")
        return team

    async def get_by_id(self, team_id: int) -> Team:
        async with self._sessions() as session:
            team = await session.get(Team, team_id)
        if team is None:
            raise NotFound(f"No team with id {team_id}.")
        return team

    async def list(self) -> list[Team]:
        async with self._sessions() as session:
            return list(await session.scalars(select(Team).order_by(Team.name)))

    async def set_quota(self, spec: QuotaSpec) -> None:
        """Create or replace the limit for one scope and window; None limits mean unlimited."""
        async with self._sessions.begin() as session:
            await set_quota_in(session, spec)

    async def quotas_for(self, scope: str, scope_id: int) -> builtins.list[Quota]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Quota).where(Quota.scope == scope, Quota.scope_id == scope_id)
            )
            return list(rows)


async def set_quota_in(session: AsyncSession, spec: QuotaSpec) -> None:
    existing = await session.scalar(
        select(Quota).where(
            Quota.scope == spec.scope,
            Quota.scope_id == spec.scope_id,
            Quota.window == spec.window,
        )
    )
    if existing is None:
        session.add(
            Quota(
                scope=spec.scope,
                scope_id=spec.scope_id,
                window=spec.window,
                cost_limit_micros=spec.cost_limit_micros,
                token_limit=spec.token_limit,
            )
        )
    else:
        existing.cost_limit_micros = spec.cost_limit_micros
        existing.token_limit = spec.token_limit
