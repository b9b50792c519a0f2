"""The quotas that apply to a caller (team, member, key; day and month), read from memory.

Reserve needs them on every request; they change a few times a month. `CallerQuotas` keeps
them in the hub's settings cache (hub/settings_cache.py), which drops them as soon as a
transaction that changed a quota commits, here or (through hub.signals) in another process.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.model import Caller
from hub.settings_cache import SettingsCache
from hub.store.ledger_tables import Quota


@dataclass(frozen=True, slots=True)
class QuotaLimit:
    """One quota row, detached: None limits are unlimited on that axis."""

    scope: str
    scope_id: int
    window: str
    cost_limit_micros: int | None
    token_limit: int | None


def caller_scopes(caller: Caller) -> list[tuple[str, int]]:
    scopes = [("team", caller.team_id)]
    if caller.member_id is not None:
        scopes.append(("member", caller.member_id))
    if caller.key_id is not None:
        scopes.append(("key", caller.key_id))
    return scopes


async def load_quotas(session: AsyncSession, caller: Caller) -> tuple[QuotaLimit, ...]:
    scopes = caller_scopes(caller)
    rows = await session.scalars(
        select(Quota).where(or_(*(and_(Quota.scope == s, Quota.scope_id == i) for s, i in scopes)))
    )
    return tuple(
        QuotaLimit(q.scope, q.scope_id, q.window, q.cost_limit_micros, q.token_limit) for q in rows
    )


class CallerQuotas:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cache: SettingsCache | None = None
    ) -> None:
        self._sessions = sessions
        self._cache = cache

    async def of(self, caller: Caller) -> tuple[QuotaLimit, ...]:
        if self._cache is None:
            return await self._load(caller)
        key = (caller.team_id, caller.member_id, caller.key_id)
        return await self._cache.get("quotas", key, lambda: self._load(caller))

    def known(self, caller: Caller) -> tuple[QuotaLimit, ...] | None:
        """`of(caller)` when it is in memory and fresh, without awaiting (None: `of` reads)."""
        if self._cache is None:
            return None
        found: tuple[QuotaLimit, ...] | None = self._cache.peek(
            "quotas", (caller.team_id, caller.member_id, caller.key_id)
        )
        return found

    async def _load(self, caller: Caller) -> tuple[QuotaLimit, ...]:
        async with self._sessions() as session:
            return await load_quotas(session, caller)
