"""A settle releases only its own hold and moves only its own counters, even when the ids it
holds in memory now name another request's hold and another team's counter.

That happens on PostgreSQL once reservations commit with `synchronous_commit=off`: a server
crash loses the last commits, and the sequences hand their ids out again. SQLite reuses a
deleted row's id by itself (the largest rowid plus one). The crash is simulated exactly: the
first request's reservation row and the counter it created are deleted and the sequences
set back, so the next reservation, another team's, gets the very same ids.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, select, text, update

from hub.ledger.holds import Hold
from hub.ledger.recovery import HoldContext
from hub.model import Caller, Origin
from hub.service import Hub
from hub.store.ledger_tables import BudgetCounter, Reservation
from tests.hub.ledger.test_alone_pg import entry
from tests.support.hubs import RunningHub, start_hub
from tests.support.records import usage_rows

Figures = tuple[int, int, int, int]  # cost reserved, cost spent, tokens reserved, spent


@pytest.fixture
async def running(database_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub({}, database_url=database_url, monthly_budget_micros=1_000_000)
    try:
        yield hub
    finally:
        await hub.close()


async def team_counter(hub: Hub, team_id: int) -> tuple[int, Figures] | None:
    async with hub.sessions() as session:
        c = await session.scalar(
            select(BudgetCounter).where(
                BudgetCounter.scope == "team", BudgetCounter.scope_id == team_id
            )
        )
    if c is None:
        return None
    return c.id, (c.cost_reserved_micros, c.cost_spent_micros, c.tokens_reserved, c.tokens_spent)


async def holds(hub: Hub) -> list[tuple[int, str | None]]:
    async with hub.sessions() as session:
        rows = await session.execute(select(Reservation.id, Reservation.team_id))
        return sorted((int(r[0]), r[1]) for r in rows)


async def lose(hub: Hub, hold: Hold, *, counter_too: bool) -> None:
    """What a server crash after the reservation's asynchronous commit leaves: no
    reservation row, the counters as they were before it, the sequences before its ids."""
    async with hub.engine.begin() as conn:
        await conn.execute(delete(Reservation).where(Reservation.id == hold.id))
        if counter_too:
            await conn.execute(delete(BudgetCounter).where(BudgetCounter.id.in_(hold.counter_ids)))
        else:
            await conn.execute(
                update(BudgetCounter)
                .where(BudgetCounter.id.in_(hold.counter_ids))
                .values(
                    cost_reserved_micros=BudgetCounter.cost_reserved_micros - hold.cost_micros,
                    tokens_reserved=BudgetCounter.tokens_reserved - hold.tokens,
                )
            )
        if conn.dialect.name == "postgresql":
            for table, first in (
                ("reservations", hold.id),
                ("budget_counters", min(hold.counter_ids)),
            ):
                if table == "budget_counters" and not counter_too:
                    continue
                await conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :v, false)"),
                    {"v": first},
                )


def context(request_id: str, caller: Caller) -> HoldContext:
    return HoldContext(request_id, caller, Origin(connector="test", user="u1"), "gpt", 10)


@pytest.mark.parametrize("with_context", [True, False], ids=["request", "no-context"])
@pytest.mark.parametrize("together", [False, True], ids=["one-by-one", "one-batch"])
async def test_a_settle_after_a_lost_reservation_touches_nothing_of_the_reused_ids(
    running: RunningHub, with_context: bool, together: bool
) -> None:
    hub = running.hub
    acme = Caller(team_id=running.team.id, team_name=running.team.name)
    other_team = await hub.teams.create("globex", monthly_budget_micros=1_000_000)
    globex = Caller(team_id=other_team.id, team_name=other_team.name)
    for caller in (acme, globex):
        await hub.budget.quotas.of(caller)

    first = await hub.budget.reserve(
        acme,
        cost_micros=40_000,
        tokens=40,
        context=context("r-acme", acme) if with_context else None,
    )
    await lose(hub, first, counter_too=True)
    second = await hub.budget.reserve(
        globex,
        cost_micros=30_000,
        tokens=30,
        context=context("r-globex", globex) if with_context else None,
    )
    # The crash's consequence, made certain: the same ids, now another team's.
    assert (second.id, second.counter_ids) == (first.id, first.counter_ids)
    assert await holds(hub) == [(second.id, globex.team_id)]
    globex_before = await team_counter(hub, globex.team_id)
    assert globex_before == (second.counter_ids[0], (30_000, 0, 30, 0))

    late = hub.budget.settle(first, entry(acme, "r-acme", 12_000, (10, 2)))
    if together:
        await asyncio.gather(
            late, hub.budget.settle(second, entry(globex, "r-globex", 9_000, (8, 1)))
        )
    else:
        await late
        # The other request's hold and its team's counter are as they were.
        assert await holds(hub) == [(second.id, globex.team_id)]
        assert await team_counter(hub, globex.team_id) == globex_before
        await hub.budget.settle(second, entry(globex, "r-globex", 9_000, (8, 1)))

    records = await usage_rows(hub)
    assert sorted((r.request_id, r.team_id, r.cost_micros) for r in records) == [
        ("r-acme", acme.team_id, 12_000),
        ("r-globex", globex.team_id, 9_000),
    ]
    assert await holds(hub) == []
    globex_after = await team_counter(hub, globex.team_id)
    assert globex_after == (second.counter_ids[0], (0, 9_000, 0, 9))
    acme_after = await team_counter(hub, acme.team_id)  # made anew, by its key
    assert acme_after is not None and acme_after[1] == (0, 12_000, 0, 12)


async def test_a_lost_reservation_on_a_surviving_counter_books_it_once(
    running: RunningHub,
) -> None:
    """The counter existed before (an earlier request's): the crash lost only the hold's
    addition to it; the late settle books the spend there, and releases nothing else."""
    hub = running.hub
    acme = Caller(team_id=running.team.id, team_name=running.team.name)
    await hub.budget.quotas.of(acme)
    earlier = await hub.budget.reserve(acme, cost_micros=5_000, tokens=5)
    await hub.budget.settle(earlier, entry(acme, "r-0", 1_000, (1, 0)))
    first = await hub.budget.reserve(
        acme, cost_micros=40_000, tokens=40, context=context("r-1", acme)
    )
    await lose(hub, first, counter_too=False)
    second = await hub.budget.reserve(
        acme, cost_micros=30_000, tokens=30, context=context("r-2", acme)
    )
    assert second.id == first.id

    await hub.budget.settle(first, entry(acme, "r-1", 12_000, (10, 2)))
    assert [h for h, _ in await holds(hub)] == [second.id]
    assert await team_counter(hub, acme.team_id) == (first.counter_ids[0], (30_000, 13_000, 30, 13))
    await hub.budget.settle(second, entry(acme, "r-2", 9_000, (8, 1)))
    assert await holds(hub) == []
    assert await team_counter(hub, acme.team_id) == (first.counter_ids[0], (0, 22_000, 0, 22))
    assert sorted(r.request_id for r in await usage_rows(hub)) == ["r-0", "r-1", "r-2"]
