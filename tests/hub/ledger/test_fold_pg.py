"""PostgreSQL: two processes' folds of the staged rollup facts (hub/ledger/fold.py) count each
fact once, whether the second skips what the first holds (a background fold) or waits for it
to commit (a fold before a report)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.ledger.fold import fold_staged
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_writer import write_usage
from hub.ledger.writer import Tx
from hub.model import Caller
from hub.store.ledger_tables import UsageRecord
from hub.store.rollup_tables import UsageRollupStaged
from tests.property.test_rollup_rows import entry, expected_rollups, table
from tests.support.hubs import RunningHub, start_hub

pytestmark = pytest.mark.postgres

counter = itertools.count()
BASE = {
    "key": 1, "member": 7, "user": "U1", "connector": "slack", "workspace": "W1",
    "channel": "C1", "alias": "big", "deployment": "p/big", "first": "p/small",
    "status": "ok", "prompt": 100, "completion": 10, "cached": 0, "cost": 1_000, "saved": 0,
    "latency": 120, "ttft": 40,
}  # fmt: skip


@pytest.fixture
async def running(postgres_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub({}, database_url=postgres_url)
    try:
        yield hub
    finally:
        await hub.close()


async def staged_records(running: RunningHub, count: int, *, team_id: int = 0) -> int:
    """`count` records of a new team (or of `team_id`), staged and not folded; the team's id."""
    hub = running.hub
    if not team_id:
        team_id = (await hub.teams.create(f"fold-{next(counter)}")).id
    caller = Caller(team_id=team_id, team_name="fold")
    when = datetime(2026, 3, 1, 12, tzinfo=UTC)
    batch: list[tuple[UsageEntry, datetime]] = [
        (entry(caller, n, {**BASE, "cost": 1_000 + n}), when + timedelta(minutes=7 * n))
        for n in (next(counter) for _ in range(count))
    ]

    def write(tx: Tx) -> list[int]:
        return write_usage(tx.conn, batch)

    await hub.budget.writer.run(write)
    return team_id


async def fold(conn: AsyncConnection, **options: Any) -> int:
    return await conn.run_sync(lambda sync: fold_staged(sync, **options))


async def check_folded_once(running: RunningHub, team_id: int) -> None:
    hub = running.hub
    async with hub.sessions() as session:
        stored = list(
            await session.scalars(select(UsageRecord).where(UsageRecord.team_id == team_id))
        )
        left = await session.scalar(select(func.count()).select_from(UsageRollupStaged))
    assert left == 0
    assert await table(hub, team_id) == expected_rollups(stored)


async def test_a_fold_skips_the_facts_another_fold_holds(running: RunningHub) -> None:
    hub = running.hub
    team_id = await staged_records(running, 4)
    async with hub.engine.connect() as first, hub.engine.connect() as second:
        await first.begin()
        assert await fold(first, limit=3) == 4  # two statements: three, then one
        await staged_records(running, 5, team_id=team_id)  # committed, not held by the first
        await second.begin()
        # The first's four skipped, the other five taken; their rollup rows (the same keys)
        # then wait for the first's to commit.
        taking = asyncio.ensure_future(fold(second, wait=False))
        await first.commit()
        assert await taking == 5
        await second.commit()
    await check_folded_once(running, team_id)


async def test_a_fold_before_a_report_waits_for_another_folds_commit(
    running: RunningHub,
) -> None:
    team_id = await staged_records(running, 6)
    engine = running.hub.engine
    async with engine.connect() as first, engine.connect() as second:
        await first.begin()
        assert await fold(first) == 6
        await second.begin()
        waiting = asyncio.ensure_future(fold(second))  # blocks on the first's locks
        await first.commit()
        assert await waiting == 0  # the first's facts are gone: none counted twice
        await second.commit()
    await check_folded_once(running, team_id)
