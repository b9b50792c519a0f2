"""Reserve-then-settle: money moves in two atomic steps, so concurrent requests never
overspend a quota.

`reserve` holds the worst case on every counter that applies (team, member, key; day and
month), each with one conditional UPDATE that only succeeds while the limit has room. `settle`
releases the hold, adds the actual cost and writes the usage record, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.errors import QuotaExceeded
from hub.events.outbox import EventSink
from hub.ledger.money import format_usd
from hub.ledger.periods import describe_reset, period_start, resets_at
from hub.ledger.thresholds import announce_thresholds
from hub.ledger.usage_entry import UsageEntry
from hub.model import Caller
from hub.store.ledger_tables import BudgetCounter, Quota, Reservation


@dataclass(frozen=True, slots=True)
class Hold:
    id: int
    team_id: int
    counter_ids: tuple[int, ...]
    cost_micros: int
    tokens: int


@dataclass(slots=True)
class _Tracked:
    scope: str
    scope_id: int
    window: str
    quota: Quota | None = None
    counter_id: int = 0
    labels: dict[str, str] = field(default_factory=dict)


def _scopes(caller: Caller) -> list[tuple[str, int]]:
    scopes = [("team", caller.team_id)]
    if caller.member_id is not None:
        scopes.append(("member", caller.member_id))
    if caller.key_id is not None:
        scopes.append(("key", caller.key_id))
    return scopes


class Budget:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, events: EventSink
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._events = events

    async def reserve(self, caller: Caller, *, cost_micros: int, tokens: int) -> Hold:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            tracked = await self._tracked(session, caller)
            for item in tracked:
                item.counter_id = await _ensure_counter(
                    session, item.scope, item.scope_id, item.window, now
                )
            for item in sorted(tracked, key=lambda t: t.counter_id):  # one lock order
                stmt = update(BudgetCounter).where(BudgetCounter.id == item.counter_id)
                quota = item.quota
                if quota is not None and quota.cost_limit_micros is not None:
                    stmt = stmt.where(
                        BudgetCounter.cost_spent_micros
                        + BudgetCounter.cost_reserved_micros
                        + cost_micros
                        <= quota.cost_limit_micros
                    )
                if quota is not None and quota.token_limit is not None:
                    stmt = stmt.where(
                        BudgetCounter.tokens_spent + BudgetCounter.tokens_reserved + tokens
                        <= quota.token_limit
                    )
                result = await session.execute(
                    stmt.values(
                        cost_reserved_micros=BudgetCounter.cost_reserved_micros + cost_micros,
                        tokens_reserved=BudgetCounter.tokens_reserved + tokens,
                    ).execution_options(synchronize_session=False)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    counter = await session.get(BudgetCounter, item.counter_id)
                    assert counter is not None and quota is not None
                    raise _refusal(caller, item, quota, counter, cost_micros, tokens, now)
            counter_ids = tuple(sorted(t.counter_id for t in tracked))
            row = Reservation(
                team_id=caller.team_id,
                counter_ids=",".join(map(str, counter_ids)),
                cost_micros=cost_micros,
                tokens=tokens,
                created_at=now,
            )
            session.add(row)
            await session.flush()
            return Hold(row.id, caller.team_id, counter_ids, cost_micros, tokens)

    async def settle(self, hold: Hold, entry: UsageEntry) -> int:
        """Release the hold, book the actual cost and write the usage record, atomically."""
        async with self._sessions.begin() as session:
            released = await session.execute(delete(Reservation).where(Reservation.id == hold.id))
            # A hold the sweeper already released must not be released twice.
            still_held = released.rowcount == 1  # type: ignore[attr-defined]
            tokens = entry.usage.total_tokens
            before = {
                c.id: (c.cost_spent_micros, c.tokens_spent)
                for c in await session.scalars(
                    select(BudgetCounter).where(BudgetCounter.id.in_(hold.counter_ids))
                )
            }
            for counter_id in hold.counter_ids:
                await session.execute(
                    update(BudgetCounter)
                    .where(BudgetCounter.id == counter_id)
                    .values(
                        cost_reserved_micros=BudgetCounter.cost_reserved_micros
                        - (hold.cost_micros if still_held else 0),
                        tokens_reserved=BudgetCounter.tokens_reserved
                        - (hold.tokens if still_held else 0),
                        cost_spent_micros=BudgetCounter.cost_spent_micros + entry.cost_micros,
                        tokens_spent=BudgetCounter.tokens_spent + tokens,
                    )
                    .execution_options(synchronize_session=False)
                )
            record = entry.to_row(self._clock.now())
            session.add(record)
            await session.flush()
            await self._events.emit(
                session,
                team_id=entry.caller.team_id,
                type="completion.created",
                data=entry.event_data(),
            )
            await announce_thresholds(
                session,
                events=self._events,
                caller=entry.caller,
                before=before,
                now=self._clock.now(),
            )
            return record.id

    async def release_stale(self, older_than: timedelta) -> int:
        """Give back holds of requests that never settled (a crashed process)."""
        cutoff = self._clock.now() - older_than
        released = 0
        async with self._sessions.begin() as session:
            for hold in await session.scalars(
                select(Reservation).where(Reservation.created_at < cutoff)
            ):
                for counter_id in map(int, hold.counter_ids.split(",")):
                    await session.execute(
                        update(BudgetCounter)
                        .where(BudgetCounter.id == counter_id)
                        .values(
                            cost_reserved_micros=BudgetCounter.cost_reserved_micros
                            - hold.cost_micros,
                            tokens_reserved=BudgetCounter.tokens_reserved - hold.tokens,
                        )
                        .execution_options(synchronize_session=False)
                    )
                await session.delete(hold)
                released += 1
        return released

    async def _tracked(self, session: AsyncSession, caller: Caller) -> list[_Tracked]:
        tracked: dict[tuple[str, int, str], _Tracked] = {
            ("team", caller.team_id, "month"): _Tracked("team", caller.team_id, "month")
        }
        for scope, scope_id in _scopes(caller):
            for quota in await session.scalars(
                select(Quota).where(Quota.scope == scope, Quota.scope_id == scope_id)
            ):
                key = (scope, scope_id, quota.window)
                tracked.setdefault(key, _Tracked(scope, scope_id, quota.window)).quota = quota
        return list(tracked.values())


async def _ensure_counter(
    session: AsyncSession, scope: str, scope_id: int, window: str, now: datetime
) -> int:
    start = period_start(window, now)
    values = dict(
        scope=scope,
        scope_id=scope_id,
        window=window,
        period_start=start,
        cost_reserved_micros=0,
        cost_spent_micros=0,
        tokens_reserved=0,
        tokens_spent=0,
    )
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(BudgetCounter)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["scope", "scope_id", "window", "period_start"])
    )
    counter_id = await session.scalar(
        select(BudgetCounter.id).where(
            BudgetCounter.scope == scope,
            BudgetCounter.scope_id == scope_id,
            BudgetCounter.window == window,
            BudgetCounter.period_start == start,
        )
    )
    assert counter_id is not None
    return counter_id


_SUBJECT = {
    "team": ("Team '{team}' has", "its"),
    "member": ("You have", "your"),
    "key": ("This API key has", "its"),
}
_WINDOW = {"day": "daily", "month": "monthly"}


def _refusal(
    caller: Caller,
    item: _Tracked,
    quota: Quota,
    counter: BudgetCounter,
    cost_micros: int,
    tokens: int,
    now: datetime,
) -> QuotaExceeded:
    reset = resets_at(item.window, now)
    subject, its = _SUBJECT[item.scope]
    subject = subject.format(team=caller.team_name)
    window = _WINDOW[item.window]
    cost_limit, token_limit = quota.cost_limit_micros, quota.token_limit
    cost_used = counter.cost_spent_micros + counter.cost_reserved_micros
    if cost_limit is not None and cost_used + cost_micros > cost_limit:
        figure = f"{its} {window} budget of {format_usd(cost_limit)}"
        if cost_used >= cost_limit:
            head = f"{subject} reached {figure}"
        else:
            head = (
                f"{subject} {format_usd(cost_limit - cost_used)} left of {figure}, less than "
                f"this request could cost ({format_usd(cost_micros)}); lower max_tokens or wait"
            )
        name = f"{item.scope}_{item.window}_budget"
    else:
        limit = token_limit or 0
        used = counter.tokens_spent + counter.tokens_reserved
        figure = f"{its} {window} token quota of {limit:,} tokens"
        if used >= limit:
            head = f"{subject} reached {figure}"
        else:
            head = (
                f"{subject} {limit - used:,} tokens left of {figure}, fewer than this request "
                f"may use ({tokens:,}); lower max_tokens or wait"
            )
        name = f"{item.scope}_{item.window}_tokens"
    return QuotaExceeded(
        f"{head}; it resets on {describe_reset(reset)}.",
        resets_at=reset,
        retry_after=max(1.0, (reset - now).total_seconds()),
        limit_name=name,
    )
