"""The first delivery of an external id wins, in the database; retries are answered once.

if not await hub.deliveries.claim("slack", event_id):
    return  # a retry: answered already, or being answered
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.store.platform_tables import Delivery


@dataclass(frozen=True, slots=True)
class DeliveryState:
    status: str  # pending | done
    response: str | None


class Deliveries:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def claim(self, connector: str, external_id: str, *, note: str | None = None) -> bool:
        """True for the first delivery of this id; False for every later one. `note` is
        kept in the claim's `response` until `complete` replaces it."""
        now = self._clock.now()
        try:
            async with self._sessions.begin() as session:
                session.add(
                    Delivery(
                        connector=connector,
                        external_id=external_id,
                        status="pending",
                        response=note,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def complete(self, connector: str, external_id: str, response: str | None) -> None:
        """Remember the answer, for platforms whose retries must get the first result back."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.connector == connector, Delivery.external_id == external_id)
                .values(status="done", response=response, updated_at=self._clock.now())
            )

    async def get(self, connector: str, external_id: str) -> DeliveryState | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(Delivery).where(
                    Delivery.connector == connector, Delivery.external_id == external_id
                )
            )
        return None if row is None else DeliveryState(row.status, row.response)

    async def release(self, connector: str, external_id: str) -> None:
        """Forget a claim whose work never started (e.g. verification failed after claiming)."""
        async with self._sessions.begin() as session:
            await session.execute(
                delete(Delivery).where(
                    Delivery.connector == connector, Delivery.external_id == external_id
                )
            )

    async def prune(self, older_than: timedelta) -> int:
        cutoff = self._clock.now() - older_than
        async with self._sessions.begin() as session:
            result = await session.execute(delete(Delivery).where(Delivery.created_at < cutoff))
        return int(result.rowcount)  # type: ignore[attr-defined]
