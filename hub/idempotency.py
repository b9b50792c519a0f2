"""The first delivery of an external id wins, in the database; retries are answered once.

if not await hub.deliveries.claim("slack", event_id):
    return  # a retry: answered already, or being answered

A claim sits on the ack path of Slack and Discord (Discord's deferred response waits for it),
so it is written in the ledger writer's batches when there is one: an INSERT that does
nothing on a duplicate, beside the reservations of the same loop iteration. On SQLite a
session of its own would take the write lock on another connection and, finding a ledger
batch holding it, sleep in SQLite's busy handler (1, 2, 5, 10 ... 100 ms steps). On
PostgreSQL its batch commits at the server's `synchronous_commit` whatever
`[database] postgres_synchronous_commit` says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.store.platform_tables import Delivery

if TYPE_CHECKING:
    from hub.ledger.writer import LedgerWriter

# Built once: the first delivery inserts its row, a later one (same connector and id) nothing.
_FIRST = {
    "postgresql": pg_insert(Delivery).on_conflict_do_nothing(),
    "sqlite": sqlite_insert(Delivery).on_conflict_do_nothing(),
}


@dataclass(frozen=True, slots=True)
class DeliveryState:
    status: str  # pending | done
    response: str | None


class Deliveries:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        writer: LedgerWriter | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._writer = writer

    async def claim(self, connector: str, external_id: str, *, note: str | None = None) -> bool:
        """True for the first delivery of this id; False for every later one. `note` is
        kept in the claim's `response` until `complete` replaces it."""
        now = self._clock.now()
        if self._writer is not None and not self._writer.closed:
            row = {"connector": connector, "external_id": external_id, "status": "pending",
                   "response": note, "created_at": now, "updated_at": now}  # fmt: skip
            try:
                # Durable: a claim a server crash lost would let the retry be answered again.
                first = await self._writer.run(lambda tx: _insert_first(tx.conn, row), durable=True)
                return bool(first)
            except IntegrityError:  # a dialect without ON CONFLICT: the plain INSERT's answer
                return False
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


def _insert_first(conn: Connection, row: dict[str, Any]) -> int:
    """1 when this inserted the row, 0 when it was there already."""
    statement = _FIRST.get(conn.dialect.name, insert(Delivery))
    return int(conn.execute(statement, row).rowcount)
