"""PostgreSQL: the ledger writer's batches are BEGIN … COMMIT on asyncpg's own connection,
their precompiled statements sent straight to it (hub/ledger/pg_batch.py, pg_driver.py). A
connection lost in the middle of a batch fails the whole batch, writes nothing of it, and the
next batch reconnects; a batch that fails leaves no transaction open on the pooled
connection the next user gets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.util import await_only

from hub.ledger.writer import Tx
from hub.model import Caller
from hub.store.ledger_tables import BudgetCounter, Reservation
from tests.hub.ledger.test_alone_pg import entry
from tests.support.hubs import RunningHub, start_hub
from tests.support.records import usage_rows

pytestmark = pytest.mark.postgres


@pytest.fixture
async def running(postgres_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub({}, database_url=postgres_url, monthly_budget_micros=10**9)
    try:
        yield hub
    finally:
        await hub.close()


async def held(running: RunningHub) -> tuple[int, int]:
    """(reservation rows, cost reserved on the team's counters)."""
    async with running.hub.sessions() as session:
        holds = await session.scalar(select(func.count()).select_from(Reservation))
        reserved = await session.scalar(select(func.sum(BudgetCounter.cost_reserved_micros)))
        return int(holds or 0), int(reserved or 0)


async def test_a_connection_lost_mid_batch_writes_nothing_and_the_next_batch_reconnects(
    running: RunningHub, postgres_url: str
) -> None:
    hub = running.hub
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    await hub.budget.quotas.of(caller)
    hold = await hub.budget.reserve(caller, cost_micros=30_000, tokens=30)
    assert await held(running) == (1, 30_000)  # the team's counter
    killer = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))

    def lose_connection(tx: Tx) -> None:
        # The batch's first job: the server ends this connection (and waits until it is
        # gone), so the settle and the reservation after it meet a lost connection.
        pid = tx.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        await_only(killer.execute("SELECT pg_terminate_backend($1, 5000)", pid))

    try:
        outcomes = await asyncio.gather(
            hub.ledger_writer.run(lose_connection),
            hub.budget.settle(hold, entry(caller, "r1", 12_000, (10, 2))),
            hub.budget.reserve(caller, cost_micros=40_000, tokens=40),
            return_exceptions=True,
        )
    finally:
        await killer.close()
    for outcome in outcomes:
        assert isinstance(outcome, DBAPIError) and outcome.connection_invalidated, outcome
    # Nothing of the batch: the hold is still there, no record, no second reservation.
    assert await held(running) == (1, 30_000)
    assert await usage_rows(hub) == []
    # The caller's retry: the next batch has a new connection, and settles exactly once.
    await hub.budget.settle(hold, entry(caller, "r1", 12_000, (10, 2)))
    again = await hub.budget.settle(hold, entry(caller, "r1", 12_000, (10, 2)))
    (record,) = await usage_rows(hub)
    assert (record.id, record.request_id, record.cost_micros) == (again.usage_id, "r1", 12_000)
    assert await held(running) == (0, 0)


class Boom(Exception):
    pass


async def test_a_failed_batch_leaves_no_transaction_open_on_its_connection(
    running: RunningHub,
) -> None:
    hub = running.hub
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    await hub.budget.quotas.of(caller)
    hold = await hub.budget.reserve(caller, cost_micros=30_000, tokens=30)

    def fail_after_writing(tx: Tx) -> None:
        tx.conn.exec_driver_sql("UPDATE budget_counters SET cost_spent_micros = 7")
        raise Boom

    outcomes = await asyncio.gather(
        hub.budget.settle(hold, entry(caller, "r1", 12_000, (10, 2))),
        hub.ledger_writer.run(fail_after_writing),
        return_exceptions=True,
    )
    # The failing job alone failed; the settle was written again in a transaction of its own.
    assert isinstance(outcomes[1], Boom)
    assert [r.request_id for r in await usage_rows(hub)] == ["r1"]
    # No connection of the database is left inside a transaction, and nothing of the
    # failed job was committed.
    async with hub.engine.connect() as conn:
        spent = await conn.scalar(select(func.max(BudgetCounter.cost_spent_micros)))
        idle_in_transaction = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%'"
            )
        )
    assert (spent, idle_in_transaction) == (12_000, 0)
    assert await held(running) == (0, 0)


def backend_pid(tx: Tx) -> int:
    return int(tx.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


async def test_the_writers_connection_closed_while_idle_is_replaced_before_a_batch(
    running: RunningHub, postgres_url: str
) -> None:
    """The writer keeps its connection across batches; one the server closed meanwhile (a
    restart, an idle timeout) is replaced before the next batch is sent, so none fails."""
    hub = running.hub
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    await hub.budget.quotas.of(caller)
    first = await hub.ledger_writer.run(backend_pid)
    assert await hub.ledger_writer.run(backend_pid) == first  # held across batches
    killer = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    try:
        assert await killer.fetchval("SELECT pg_terminate_backend($1, 5000)", first)
    finally:
        await killer.close()
    hold = await hub.budget.reserve(caller, cost_micros=30_000, tokens=30)
    await hub.budget.settle(hold, entry(caller, "r1", 12_000, (10, 2)))
    assert await hub.ledger_writer.run(backend_pid) != first
    assert [r.request_id for r in await usage_rows(hub)] == ["r1"]
    assert await held(running) == (0, 0)
