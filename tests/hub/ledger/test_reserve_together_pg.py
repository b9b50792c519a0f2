"""PostgreSQL: a batch's reservations in one statement (hub/ledger/pg_reserve.py) when every
counter has room for the sum of their holds; when it has not, nothing is held and the batch
reserves request by request, admitting in order until the limit and refusing the rest."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from hub.errors import QuotaExceeded
from hub.ledger.pg_reserve import hold_together_pg
from hub.ledger.reserve_items import ReserveItem
from hub.ledger.room import tracked_counters
from hub.ledger.writer import Tx
from hub.model import Caller
from hub.store.ledger_tables import BudgetCounter, Reservation
from tests.support.hubs import RunningHub, start_hub

pytestmark = pytest.mark.postgres


@pytest.fixture
async def running(postgres_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub({}, database_url=postgres_url, monthly_budget_micros=100_000)
    try:
        yield hub
    finally:
        await hub.close()


async def items(running: RunningHub, costs: list[int]) -> list[ReserveItem]:
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
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
    outcomes = await asyncio.gather(
        *(running.hub.budget.reserve(caller, cost_micros=40_000, tokens=40) for _ in range(3)),
        return_exceptions=True,
    )
    assert [type(o).__name__ for o in outcomes[:2]] == ["Hold", "Hold"]
    assert isinstance(outcomes[2], QuotaExceeded)
    counters, holds = await state(running)
    assert [reserved for _, reserved in counters] == [80_000]
    assert len(holds) == 2
