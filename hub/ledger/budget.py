"""Reserve-then-settle: money moves in two atomic steps, so concurrent requests never
overspend a quota.

`reserve` holds the worst case on every counter that applies (team, member, key; day and
month), each with one upsert whose update only happens while the limit has room. `settle`
releases the hold, books the actual cost and writes the usage record, in one transaction.
Budget checks read these counters, never the usage table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.events.outbox import EventSink
from hub.ledger.periods import period_start
from hub.ledger.quotas import CallerQuotas, QuotaLimit
from hub.ledger.recovery import CostEstimate, HoldContext, claim_holds
from hub.ledger.refusal import refusal
from hub.ledger.room import Room, room_left, tracked_counters
from hub.ledger.thresholds import CounterLimit, announce_thresholds
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_writer import record_usage, rewrite_usage
from hub.model import Caller
from hub.store.engine import dialect_name
from hub.store.ledger_tables import BudgetCounter, Reservation, UsageRecord


@dataclass(frozen=True, slots=True)
class Settlement:
    usage_id: int
    thresholds: list[dict[str, object]]


@dataclass(frozen=True, slots=True)
class Hold:
    id: int
    team_id: int
    counter_ids: tuple[int, ...]
    cost_micros: int
    tokens: int
    limits: tuple[CounterLimit, ...] = ()


class Budget:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        events: EventSink,
        *,
        estimate: CostEstimate | None = None,
        quotas: CallerQuotas | None = None,
    ) -> None:
        self._sessions = sessions
        self.quotas = quotas or CallerQuotas(sessions)
        self._clock = clock
        self._events = events
        self._estimate = estimate  # prices interrupted requests (hub/ledger/recovery.py)
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
        now = self._clock.now()
        tracked = tracked_counters(caller, await self.quotas.of(caller))
        async with self._sessions.begin() as session:
            counter_ids: list[int] = []
            limits: list[CounterLimit] = []
            # One lock order for every transaction, so PostgreSQL never deadlocks.
            for (scope, scope_id, window), quota in sorted(tracked.items()):
                start = period_start(window, now)
                counter_id = await _hold_on(
                    session, (scope, scope_id, window, start), quota, cost_micros, tokens
                )
                if counter_id is None:
                    counter = await session.scalar(
                        select(BudgetCounter).where(*_counter_is(scope, scope_id, window, start))
                    )
                    assert quota is not None
                    raise refusal(
                        caller=caller,
                        scope=scope,
                        window=window,
                        quota=quota,
                        counter=counter,
                        cost_micros=cost_micros,
                        tokens=tokens,
                        now=now,
                    )
                counter_ids.append(counter_id)
                if quota is not None:
                    limits.append(
                        CounterLimit(
                            counter_id=counter_id,
                            scope=scope,
                            scope_id=scope_id,
                            window=window,
                            period_start=start,
                            cost_limit_micros=quota.cost_limit_micros,
                            token_limit=quota.token_limit,
                        )
                    )
            ids = tuple(sorted(counter_ids))
            hold_id = await session.scalar(
                insert(Reservation)
                .values(
                    team_id=caller.team_id,
                    counter_ids=",".join(map(str, ids)),
                    cost_micros=cost_micros,
                    tokens=tokens,
                    created_at=now,
                    instance_id=self.instance_id,
                    request_id=context.request_id if context else None,
                    context=context.json() if context else None,
                )
                .returning(Reservation.id)
            )
            assert hold_id is not None
            return Hold(hold_id, caller.team_id, ids, cost_micros, tokens, tuple(limits))

    async def settle(self, hold: Hold, entry: UsageEntry) -> Settlement:
        """Release the hold, book the actual cost and write the usage record, atomically."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            released = await session.execute(delete(Reservation).where(Reservation.id == hold.id))
            # A hold the sweeper already released must not be released twice.
            held = released.rowcount == 1  # type: ignore[attr-defined]
            tokens = entry.tokens_charged
            recorded = None if held else await _recorded(session, entry.request_id)
            if recorded is not None and not recorded.estimated:
                return Settlement(recorded.id, [])  # settled already (a journal replayed)
            # Released by a recovery that wrote an estimated record: book only the difference.
            estimated = recorded
            booked = (estimated.cost_micros, estimated.tokens) if estimated else (0, 0)
            spent: dict[int, tuple[int, int]] = {}
            for counter_id in hold.counter_ids:
                spent[counter_id] = await move_counter(
                    session,
                    counter_id,
                    release=(hold.cost_micros, hold.tokens) if held else (0, 0),
                    spend=(entry.cost_micros - booked[0], tokens - booked[1]),
                )
            if estimated is None:
                usage_id = await record_usage(session, entry, now=now)
            else:
                usage_id = estimated.id
                await rewrite_usage(session, usage_id, entry, created_at=estimated.created_at)
            await self._events.emit(
                session,
                team_id=entry.caller.team_id,
                type="completion.created",
                data=entry.event_data(),
            )
            thresholds = await announce_thresholds(
                session,
                events=self._events,
                caller=entry.caller,
                limits=hold.limits,
                spent_after=spent,
                added=(entry.cost_micros, tokens),
                now=now,
            )
            return Settlement(usage_id, thresholds)

    async def room(self, caller: Caller) -> Room:
        """The least room left on the caller's limited counters (hub/ledger/room.py)."""
        return await room_left(self._sessions, self._clock, caller, await self.quotas.of(caller))

    async def release_stale(self, older_than: timedelta) -> int:
        """The last resort: give back holds older than `older_than`, whatever process took
        them, each with its `interrupted` record (instance leases recover most much sooner).

        Each hold is claimed by deleting it: a settle racing the sweeper finds it gone and
        releases nothing, so no hold is ever released twice."""
        return await self.recover(Reservation.created_at < self._clock.now() - older_than)

    async def recover(self, which: ColumnElement[bool]) -> int:
        """Release the holds matching `which` with their `interrupted` records, in one
        transaction (hub/ledger/recovery.py); how many."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            return await claim_holds(
                session, which, now=now, estimate=self._estimate, move=move_counter
            )

    async def checkpoint(
        self, hold: Hold, *, deployment: str | None, completion_tokens: int
    ) -> None:
        """Note a running stream's progress on its hold, for recovery should it die."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Reservation)
                .where(Reservation.id == hold.id)
                .values(
                    deployment=deployment,
                    completion_tokens=completion_tokens,
                    checkpoint_at=self._clock.now(),
                )
            )


async def _recorded(session: AsyncSession, request_id: str) -> _Booked | None:
    """The request's usage record if one was written without this settle: by a recovery
    (estimated), or by an earlier settle of the same request (a replayed journal)."""
    row = (
        await session.execute(
            select(
                UsageRecord.id,
                UsageRecord.cost_micros,
                UsageRecord.prompt_tokens + UsageRecord.completion_tokens,
                UsageRecord.created_at,
                UsageRecord.estimated,
            ).where(UsageRecord.request_id == request_id)
        )
    ).one_or_none()
    if row is None:
        return None
    return _Booked(int(row[0]), int(row[1]), int(row[2]), row[3], bool(row[4]))


@dataclass(frozen=True, slots=True)
class _Booked:
    id: int
    cost_micros: int
    tokens: int
    created_at: datetime
    estimated: bool


async def move_counter(
    session: AsyncSession,
    counter_id: int,
    *,
    release: tuple[int, int],
    spend: tuple[int, int],
) -> tuple[int, int]:
    """Release (cost, tokens) held on a counter and add (cost, tokens) spent; the new spent
    figures."""
    row = await session.execute(
        update(BudgetCounter)
        .where(BudgetCounter.id == counter_id)
        .values(
            cost_reserved_micros=BudgetCounter.cost_reserved_micros - release[0],
            tokens_reserved=BudgetCounter.tokens_reserved - release[1],
            cost_spent_micros=BudgetCounter.cost_spent_micros + spend[0],
            tokens_spent=BudgetCounter.tokens_spent + spend[1],
        )
        .returning(BudgetCounter.cost_spent_micros, BudgetCounter.tokens_spent)
    )
    cost_after, tokens_after = row.one()
    return int(cost_after), int(tokens_after)


def _counter_is(scope: str, scope_id: int, window: str, start: date) -> tuple[Any, ...]:
    return (
        BudgetCounter.scope == scope,
        BudgetCounter.scope_id == scope_id,
        BudgetCounter.window == window,
        BudgetCounter.period_start == start,
    )


async def _hold_on(
    session: AsyncSession,
    key: tuple[str, int, str, date],
    quota: QuotaLimit | None,
    cost_micros: int,
    tokens: int,
) -> int | None:
    """Add the hold to one counter if its limit has room; the counter id, or None if not.

    One statement: insert the period's counter, or, when it exists, update it only where the
    limit still fits. A new counter starts empty, so only the request itself must fit.
    """
    cost_limit = quota.cost_limit_micros if quota else None
    token_limit = quota.token_limit if quota else None
    if (cost_limit is not None and cost_micros > cost_limit) or (
        token_limit is not None and tokens > token_limit
    ):
        return None
    scope, scope_id, window, start = key
    dialect_insert = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
    upsert = dialect_insert(BudgetCounter).values(
        scope=scope,
        scope_id=scope_id,
        window=window,
        period_start=start,
        cost_reserved_micros=cost_micros,
        cost_spent_micros=0,
        tokens_reserved=tokens,
        tokens_spent=0,
    )
    room = []
    if cost_limit is not None:
        room.append(
            BudgetCounter.cost_spent_micros + BudgetCounter.cost_reserved_micros + cost_micros
            <= cost_limit
        )
    if token_limit is not None:
        room.append(
            BudgetCounter.tokens_spent + BudgetCounter.tokens_reserved + tokens <= token_limit
        )
    stmt = upsert.on_conflict_do_update(
        index_elements=["scope", "scope_id", "window", "period_start"],
        set_={
            "cost_reserved_micros": BudgetCounter.cost_reserved_micros + cost_micros,
            "tokens_reserved": BudgetCounter.tokens_reserved + tokens,
        },
        where=and_(*room) if room else None,
    ).returning(BudgetCounter.id)
    counter_id = await session.scalar(stmt)
    return None if counter_id is None else int(counter_id)
