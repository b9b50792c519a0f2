"""Reserve-then-settle: money moves in two atomic steps, so concurrent requests never
overspend a quota.

`reserve` holds the worst case on every counter that applies (team, member, key; day and
month), each with one upsert whose update only happens while the limit has room. `settle`
releases the hold, books the actual cost and writes the usage record, in one transaction.
Budget checks read these counters, never the usage table.

Both go through the ledger writer (hub/ledger/writer.py): concurrent requests' reservations
and settlements share transactions (group commit), and each call returns once its
transaction committed, so a request is answered only after its record is durable.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import cast

from sqlalchemy import ColumnElement, Table, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.events.outbox import EventSink
from hub.ledger.holds import Hold, Settlement
from hub.ledger.quotas import CallerQuotas, QuotaLimit
from hub.ledger.recovery import CostEstimate, HoldContext, claim_holds
from hub.ledger.refusal import refusal
from hub.ledger.reserve_items import Refused, ReserveItem
from hub.ledger.reserving import RESERVE
from hub.ledger.room import Room, room_left, tracked_counters
from hub.ledger.settling import Settle, SettleItem
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.writer import LedgerWriter, Tx
from hub.model import Caller
from hub.store.ledger_tables import Reservation

__all__ = ["Budget", "Hold", "Settlement"]
_HOLDS = cast(Table, Reservation.__table__)


class Budget:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        events: EventSink,
        *,
        writer: LedgerWriter,
        estimate: CostEstimate | None = None,
        quotas: CallerQuotas | None = None,
        on_usage: Callable[[UsageEntry], None] = lambda _: None,
    ) -> None:
        self._sessions = sessions
        self.quotas = quotas or CallerQuotas(sessions)
        self._clock = clock
        self._events = events
        self.writer = writer
        self._settle = Settle(events, on_usage)
        self._estimate = estimate  # prices interrupted requests (hub/ledger/recovery.py)
        self._on_usage = on_usage
        # The process instance holds belong to (hub/ledger/instances.py), once it joined.
        self.instance_id: str | None = None

    async def reserve(
        self,
        caller: Caller,
        *,
        cost_micros: int,
        tokens: int,
        context: HoldContext | None = None,
    ) -> Hold:
        item = self._reserve_item(
            caller, cost_micros, tokens, context, await self.quotas.of(caller)
        )
        return _held(item, await self.writer.submit(RESERVE, item))

    def reserve_queued(
        self,
        caller: Caller,
        *,
        cost_micros: int,
        tokens: int,
        context: HoldContext | None = None,
    ) -> asyncio.Future[Hold] | None:
        """`reserve` queued on the ledger writer at once, without a task of its own, when the
        caller's quotas are in memory (None: they have to be read first; use `reserve`). The
        future's result is the hold; a refusal is its exception."""
        quotas = self.quotas.known(caller)
        if quotas is None:
            return None
        item = self._reserve_item(caller, cost_micros, tokens, context, quotas)
        return self.writer.queue(RESERVE, item, _held)

    def _reserve_item(
        self,
        caller: Caller,
        cost_micros: int,
        tokens: int,
        context: HoldContext | None,
        quotas: tuple[QuotaLimit, ...],
    ) -> ReserveItem:
        tracked = tracked_counters(caller, quotas)
        return ReserveItem(
            caller=caller,
            cost_micros=cost_micros,
            tokens=tokens,
            tracked=tuple(sorted(tracked.items())),  # one lock order for every transaction
            now=self._clock.now(),
            instance_id=self.instance_id,
            # Every hold's row carries a unique request id, the key a settle releases it by
            # with its id (hub/ledger/settling.py): a hold taken outside a request gets its own.
            request_id=context.request_id if context else f"hold-{secrets.token_hex(12)}",
            context=context.json() if context else None,
        )

    async def settle(self, hold: Hold, entry: UsageEntry) -> Settlement:
        """Release the hold, book the actual cost and write the usage record, atomically."""
        # From memory; a session is opened only on a cache miss.
        wanted = await self._events.wanted_types_from(self._sessions, team_id=entry.caller.team_id)
        item = SettleItem(hold, entry, self._clock.now(), wanted)
        return await self.writer.submit(self._settle, item)

    def settle_queued(self, hold: Hold, entry: UsageEntry) -> asyncio.Future[Settlement] | None:
        """`settle` queued at once, as the ledger writer's future, when the team's wanted
        events are in memory (None: they have to be read first; use `settle`)."""
        wanted = self._events.wanted_types_known(team_id=entry.caller.team_id)
        if wanted is None:
            return None
        item = SettleItem(hold, entry, self._clock.now(), wanted)
        return self.writer.queue(self._settle, item)

    async def room(self, caller: Caller) -> Room:
        """The least room left on the caller's limited counters (hub/ledger/room.py)."""
        return await room_left(self._sessions, self._clock, caller, await self.quotas.of(caller))

    async def release_stale(self, older_than: timedelta) -> int:
        """The last resort: give back holds older than `older_than`, whatever process took
        them, each with its `interrupted` record (instance leases recover most much sooner).

        Each hold is claimed by deleting it: a settle racing the sweeper finds it gone and
        releases nothing, so no hold is ever released twice."""
        return await self.recover(_HOLDS.c.created_at < self._clock.now() - older_than)

    async def recover(self, which: ColumnElement[bool]) -> int:
        """Release the holds matching `which` with their `interrupted` records, in one
        transaction (hub/ledger/recovery.py); how many."""
        now = self._clock.now()
        estimate, on_usage = self._estimate, self._on_usage

        def work(tx: Tx) -> int:
            return claim_holds(tx, which, now=now, estimate=estimate, on_usage=on_usage)

        return await self.writer.run(work)

    async def checkpoint(
        self, hold: Hold, *, deployment: str | None, completion_tokens: int
    ) -> None:
        """Note a running stream's progress on its hold, for recovery should it die."""
        statement = (
            update(_HOLDS)
            .where(_HOLDS.c.id == hold.id, _HOLDS.c.request_id == hold.request_id)
            .values(
                deployment=deployment,
                completion_tokens=completion_tokens,
                checkpoint_at=self._clock.now(),
            )
        )

        def work(tx: Tx) -> None:
            tx.conn.execute(statement)

        await self.writer.run(work)


def _held(item: ReserveItem, outcome: Hold | Refused) -> Hold:
    """The hold taken, or the refusal (QuotaExceeded) raised."""
    if isinstance(outcome, Refused):
        raise refusal(
            caller=item.caller,
            scope=outcome.scope,
            window=outcome.window,
            quota=outcome.quota,
            counter=outcome.counter,
            cost_micros=item.cost_micros,
            tokens=item.tokens,
            now=item.now,
        )
    return outcome
