"""PostgreSQL: `[database] postgres_synchronous_commit` applies to the ledger writer's own
transactions only (SET LOCAL after a batch's BEGIN; inside the one statement of a batch of
one, which then costs no round trip more), reservations and settlements alike, never to a
delivery claim's, and "on" leaves the server's setting in force."""

from __future__ import annotations

from typing import Any

import pytest

from hub.ledger.writer import Tx
from hub.model import Caller
from tests.hub.ledger.test_alone_pg import entry
from tests.support.hubs import RunningHub, start_hub
from tests.support.records import usage_rows

pytestmark = pytest.mark.postgres


def shown(tx: Tx) -> Any:
    return tx.conn.exec_driver_sql("SHOW synchronous_commit").scalar_one()


async def hub_with(postgres_url: str, level: str | None) -> RunningHub:
    database: dict[str, Any] = {"url": postgres_url}
    if level is not None:
        database["postgres_synchronous_commit"] = level
    return await start_hub(
        {"database": database}, database_url=postgres_url, monthly_budget_micros=10**9
    )


async def server_level(running: RunningHub) -> str:
    async with running.hub.engine.connect() as conn:
        return str((await conn.exec_driver_sql("SHOW synchronous_commit")).scalar_one())


async def test_off_by_default_in_the_writers_transactions_only(postgres_url: str) -> None:
    running = await hub_with(postgres_url, None)
    try:
        hub = running.hub
        assert hub.settings.database.postgres_synchronous_commit == "off"
        assert await hub.ledger_writer.run(shown) == "off"
        # The same pooled connections, for keys, teams, settings: the server's own level.
        assert await server_level(running) == "on"
        caller = Caller(team_id=running.team.id, team_name=running.team.name)
        await hub.budget.quotas.of(caller)
        writer = hub.ledger_writer
        alone, asynchronous = writer.alone, writer.asynchronous
        hold = await hub.budget.reserve(caller, cost_micros=30_000, tokens=30)
        # One statement each, with the level in it.
        assert (writer.alone, writer.asynchronous) == (alone + 1, asynchronous + 1)
        await hub.budget.settle(hold, entry(caller, "r1", 12_000, (10, 2)))
        assert (writer.alone, writer.asynchronous) == (alone + 2, asynchronous + 2)
        assert await hub.deliveries.claim("slack", "Ev1")  # durable
        assert not await hub.deliveries.claim("slack", "Ev1")
        assert writer.asynchronous == asynchronous + 2
        (record,) = await usage_rows(hub)
        assert (record.request_id, record.cost_micros) == ("r1", 12_000)
        assert await server_level(running) == "on"  # a statement's own setting ended with it
    finally:
        await running.close()


async def test_on_leaves_the_servers_setting(postgres_url: str) -> None:
    running = await hub_with(postgres_url, "on")
    try:
        async with running.hub.engine.begin() as conn:  # what a DBA set for the database
            name = running.hub.engine.url.database
            await conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = local')
        await running.hub.engine.dispose()  # new sessions read the database's setting
        assert await running.hub.ledger_writer.run(shown) == "local"
        caller = Caller(team_id=running.team.id, team_name=running.team.name)
        await running.hub.budget.quotas.of(caller)
        hold = await running.hub.budget.reserve(caller, cost_micros=30_000, tokens=30)
        await running.hub.budget.settle(hold, entry(caller, "r1", 12_000, (10, 2)))
        assert len(await usage_rows(running.hub)) == 1
        assert running.hub.ledger_writer.asynchronous == 0
    finally:
        await running.close()
