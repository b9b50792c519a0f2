"""Writing events into the outbox, inside the transaction of the change that caused them.

Only events some active subscription wants are written, so a hub with no subscribers stores
no prompts or answers here.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.settings_cache import SettingsCache
from hub.store.event_tables import OutboxEvent, Subscription

EVENT_TYPES = (
    "completion.created",
    "budget.threshold",
    "key.created",
    "key.revoked",
    "invoice.created",
    "alert.fired",
    "alert.resolved",
    "report.weekly",
)


class EventSink(Protocol):
    async def emit(
        self, session: AsyncSession, *, team_id: int, type: str, data: Mapping[str, object]
    ) -> str | None: ...

    async def wanted_types(self, session: AsyncSession, *, team_id: int) -> frozenset[str]: ...

    async def wanted_types_from(
        self, sessions: async_sessionmaker[AsyncSession], *, team_id: int
    ) -> frozenset[str]: ...

    def wanted_types_known(self, *, team_id: int) -> frozenset[str] | None: ...

    def outbox_row(
        self, *, team_id: int, type: str, data: Mapping[str, object]
    ) -> dict[str, object]: ...


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


class OutboxSink:
    def __init__(self, clock: Clock, cache: SettingsCache | None = None) -> None:
        self._clock = clock
        # Which events a team's subscriptions want, from memory: settle asks on every
        # request (hub/settings_cache.py drops it when a subscription changes).
        self._cache = cache

    async def wanted(self, session: AsyncSession, *, team_id: int, type: str) -> bool:
        return type in await self.wanted_types(session, team_id=team_id)

    async def wanted_types(self, session: AsyncSession, *, team_id: int) -> frozenset[str]:
        """Every event type some active subscription of the team wants."""
        if self._cache is None:
            return await _wanted_types(session, team_id)
        return await self._cache.get(
            "subscriptions", team_id, lambda: _wanted_types(session, team_id)
        )

    async def wanted_types_from(
        self, sessions: async_sessionmaker[AsyncSession], *, team_id: int
    ) -> frozenset[str]:
        """As `wanted_types`, opening a session only to load (settle asks on every request,
        and the answer is nearly always in memory)."""

        async def load() -> frozenset[str]:
            async with sessions() as session:
                return await _wanted_types(session, team_id)

        if self._cache is None:
            return await load()
        return await self._cache.get("subscriptions", team_id, load)

    def wanted_types_known(self, *, team_id: int) -> frozenset[str] | None:
        """As `wanted_types_from` when the answer is in memory (None: it has to be read)."""
        if self._cache is None:
            return None
        found: frozenset[str] | None = self._cache.peek("subscriptions", team_id)
        return found

    async def emit(
        self, session: AsyncSession, *, team_id: int, type: str, data: Mapping[str, object]
    ) -> str | None:
        if not await self.wanted(session, team_id=team_id, type=type):
            return None
        row = self.outbox_row(team_id=team_id, type=type, data=data)
        session.add(OutboxEvent(**row))
        return str(row["event_id"])

    def outbox_row(
        self, *, team_id: int, type: str, data: Mapping[str, object]
    ) -> dict[str, object]:
        """The outbox row of one event, for writers that insert it themselves (the ledger
        writer, which has asked `wanted_types` before)."""
        event_id = new_event_id()
        now = self._clock.now()
        envelope = {"id": event_id, "type": type, "timestamp": now.isoformat(), "data": dict(data)}
        return {
            "event_id": event_id,
            "team_id": team_id,
            "type": type,
            "payload": json.dumps(envelope, separators=(",", ":")),
            "fanned_out": False,
            "created_at": now,
        }


async def _wanted_types(session: AsyncSession, team_id: int) -> frozenset[str]:
    rows = await session.scalars(
        select(Subscription.events).where(
            Subscription.team_id == team_id, Subscription.active.is_(True)
        )
    )
    return frozenset(t for events in rows for t in events.split(",") if t)
