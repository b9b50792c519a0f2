"""PostgreSQL: a batch's reservations in one statement (hub/ledger/pg_reserve.py) when every
counter has room for the sum of their holds; when it has not, nothing is held and the batch
reserves request by request, admitting in order until the limit and refusing the rest."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import select

from hub.errors import QuotaExceeded
from hub.ledger.periods import period_start
from hub.ledger.pg_reserve import hold_together_pg
from hub.ledger.reserve_items import ReserveItem
from hub.ledger.room import tracked_counters
from hub.ledger.writer import Tx
from hub.model import Caller
from hub.store.ledger_tables import BudgetCounter, Quota, Reservation
from tests.support.hubs import RunningHub, start_hub

pytestmark = pytest.mark.postgres


@pytest.fixture
async def running(postgres_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub({}, database_url=postgres_url, monthly_budget_micros=100_000)
    try:
        yield hub
    finally:
        await hub.close()


async def items(
    running: RunningHub, costs: list[int], caller: Caller | None = None
) -> list[ReserveItem]:
    caller = caller or Caller(team_id=running.team.id, team_name=running.team.name)
    tracked = tracked_counters(caller, await running.hub.budget.quotas.of(caller))
    return [
        ReserveItem(
            caller=caller,
            cost_micros=cost,
            tokens=cost // 1000,
            tracked=tuple(sorted(tracked.items())),
            now=running.clock.now(),
            instance_id=None,
            request_id=f"req-{secrets.token_hex(6)}",
            context=None,
        )
        for cost in costs
    ]


async def state(running: RunningHub) -> tuple[list[tuple[int, int]], list[tuple[str, str]]]:
    """The counters' (id, cost reserved), and the reservations' (request id, counter ids)."""
    async with running.hub.sessions() as session:
        counters = (await session.execute(
            select(BudgetCounter.id, BudgetCounter.cost_reserved_micros)
        )).all()  # fmt: skip
        holds = (await session.execute(
            select(Reservation.request_id, Reservation.counter_ids).order_by(Reservation.id)
        )).all()  # fmt: skip
    return [tuple(c) for c in counters], [tuple(h) for h in holds]  # type: ignore[misc]


async def test_holds_that_fit_together_are_taken_in_one_statement(running: RunningHub) -> None:
    batch = await items(running, [10_000, 20_000, 30_000])

    def together(tx: Tx) -> object:
        return hold_together_pg(tx, batch)

    held = await running.hub.ledger_writer.run(together)
    assert held is not None
    counters, holds = await state(running)
    ((counter_id, reserved),) = counters  # the team's monthly counter, made by the statement
    assert reserved == 60_000
    assert [hold_id for hold_id, _ in held] == sorted(hold_id for hold_id, _ in held)
    assert [taken for _, taken in held] == [{("team", running.team.id, "month"): counter_id}] * 3
    assert holds == [(item.request_id, str(counter_id)) for item in batch]


async def test_holds_whose_sum_does_not_fit_take_nothing_together(running: RunningHub) -> None:
    batch = await items(running, [40_000, 40_000, 40_000])  # each fits 100_000, not all three

    def together(tx: Tx) -> object:
        return hold_together_pg(tx, batch)

    assert await running.hub.ledger_writer.run(together) is None
    assert await state(running) == ([], [])


async def test_a_batch_past_the_limit_admits_in_order_and_refuses_the_rest(
    running: RunningHub,
) -> None:
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    await running.hub.budget.quotas.of(caller)
    writer = running.hub.ledger_writer
    batches, jobs = writer.batches, writer.jobs
    outcomes = await asyncio.gather(
        *(running.hub.budget.reserve(caller, cost_micros=40_000, tokens=40) for _ in range(3)),
        return_exceptions=True,
    )
    # One batch of the three: the path under test is the batch statement's, then one by one.
    assert (writer.batches - batches, writer.jobs - jobs) == (1, 3)
    assert [type(o).__name__ for o in outcomes[:2]] == ["Hold", "Hold"]
    assert isinstance(outcomes[2], QuotaExceeded)
    counters, holds = await state(running)
    assert [reserved for _, reserved in counters] == [80_000]
    assert len(holds) == 2


async def blocked_by(conn: asyncpg.Connection, *, within: int = 2000) -> None:
    """Return once some backend waits for a lock `conn`'s backend holds, as the server
    reports it. PostgreSQL tells no client that another began waiting for its lock, so this
    asks: each check is a round trip that yields to the event loop (where the waiter runs),
    bounded in number, with no clock involved."""
    for _ in range(within):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
            conn.get_server_pid(),
        )
        if waiting:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"no backend waited for the lock after {within} checks")


async def test_a_counter_filled_while_the_batch_waits_for_it_gives_back_what_it_took(
    running: RunningHub, postgres_url: str
) -> None:
    """The race the statement's `room` cannot see: every counter has room in its snapshot,
    then another transaction fills one (the team's, second in lock order) while the
    statement waits for that row; its upsert's limit check fails there, the key's counter
    (first in lock order) had already taken the batch's sum, and Python gives it back."""
    key_id = running.key.id
    caller = Caller(team_id=running.team.id, team_name=running.team.name, key_id=key_id)
    month = period_start("month", running.clock.now())
    async with running.hub.sessions.begin() as session:
        session.add(Quota(scope="key", scope_id=key_id, window="month", cost_limit_micros=10**9))
        key_counter = BudgetCounter(
            scope="key", scope_id=key_id, window="month", period_start=month,
            cost_reserved_micros=1_000, cost_spent_micros=2_000, tokens_reserved=1,
            tokens_spent=2,
        )  # fmt: skip
        team_counter = BudgetCounter(
            scope="team", scope_id=running.team.id, window="month", period_start=month,
            cost_reserved_micros=10_000, cost_spent_micros=0, tokens_reserved=10,
            tokens_spent=0,
        )  # fmt: skip
        session.add_all([key_counter, team_counter])
    batch = await items(running, [20_000, 30_000], caller)  # 10_000 + 50_000 fits 100_000
    assert [key for key, _ in batch[0].tracked] == [
        ("key", key_id, "month"),  # sorted: the key's counter is updated before the team's
        ("team", running.team.id, "month"),
    ]

    def together(tx: Tx) -> object:
        return hold_together_pg(tx, batch)

    other = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        filling = other.transaction()
        await filling.start()
        await other.execute(
            "SELECT 1 FROM budget_counters WHERE id = $1 FOR UPDATE", team_counter.id
        )
        writing = asyncio.ensure_future(running.hub.ledger_writer.run(together))
        await blocked_by(other)  # the statement, past `room`, waits for the team's row
        assert not writing.done()
        await other.execute(
            "UPDATE budget_counters SET cost_spent_micros = $2 WHERE id = $1",
            team_counter.id,
            80_000,
        )  # 80_000 + 10_000 + 50_000 > 100_000: no room by the time the statement gets it
        await filling.commit()
        assert await writing is None
    finally:
        await other.close()

    async with running.hub.sessions() as session:
        counters = (await session.execute(
            select(
                BudgetCounter.id, BudgetCounter.cost_reserved_micros,
                BudgetCounter.cost_spent_micros, BudgetCounter.tokens_reserved,
                BudgetCounter.tokens_spent,
            ).order_by(BudgetCounter.id)
        )).all()  # fmt: skip
        holds = (await session.scalars(
            select(Reservation.request_id).where(
                Reservation.request_id.in_([item.request_id for item in batch])
            )
        )).all()  # fmt: skip
    assert [tuple(row) for row in counters] == [
        (key_counter.id, 1_000, 2_000, 1, 2),  # took 50_000 and 50 tokens, gave them back
        (team_counter.id, 10_000, 80_000, 10, 0),  # only the other transaction's change
    ]
    assert holds == []
