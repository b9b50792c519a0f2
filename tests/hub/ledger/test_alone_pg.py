"""PostgreSQL: a batch's only reservation or settlement is one statement in autocommit, and
every case that statement does not cover (a refusal, a threshold crossed, a hold already
gone) is written in a transaction as before, with nothing of the statement left behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hub.errors import QuotaExceeded
from hub.ledger.rollups import SUM_COLUMNS, merged_rows, rollup_rows
from hub.ledger.usage_entry import UsageEntry
from hub.model import Caller, Origin, Usage
from hub.store.event_tables import BudgetAlert
from hub.store.ledger_tables import BudgetCounter, Quota, Reservation
from hub.store.rollup_tables import ROLLUP_KEY, UsageRollup
from tests.support.hubs import RunningHub, start_hub
from tests.support.records import usage_rows

pytestmark = pytest.mark.postgres


@pytest.fixture
async def running(postgres_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub({}, database_url=postgres_url, monthly_budget_micros=100_000)
    try:
        yield hub
    finally:
        await hub.close()


def entry(caller: Caller, request_id: str, cost: int, tokens: tuple[int, int]) -> UsageEntry:
    return UsageEntry(
        request_id=request_id,
        caller=caller,
        origin=Origin(connector="test", user="u1", channel="c1"),
        alias="gpt",
        deployment="up/m",
        usage=Usage(*tokens),
        cost_micros=cost,
        latency_ms=12,
        ttft_ms=5,
        status="ok",
    )


async def counters(running: RunningHub) -> list[tuple[str, int, int, int, int]]:
    async with running.hub.sessions() as session:
        rows = await session.scalars(select(BudgetCounter).order_by(BudgetCounter.scope))
        return [
            (
                c.scope,
                c.cost_reserved_micros,
                c.cost_spent_micros,
                c.tokens_reserved,
                c.tokens_spent,
            )
            for c in rows
        ]


async def rollups(running: RunningHub) -> dict[tuple[Any, ...], tuple[int, ...]]:
    async with running.hub.sessions() as session:
        rows = await session.scalars(select(UsageRollup))
        return {
            tuple(getattr(r, k) for k in ROLLUP_KEY): tuple(getattr(r, s) for s in SUM_COLUMNS)
            for r in rows
        }


async def test_reserve_and_settle_alone_write_what_a_transaction_writes(
    running: RunningHub,
) -> None:
    writer = running.hub.budget.writer
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    await running.hub.budget.quotas.of(caller)
    before = writer.alone
    hold = await running.hub.budget.reserve(caller, cost_micros=30_000, tokens=30)
    assert writer.alone == before + 1
    assert await counters(running) == [("team", 30_000, 0, 30, 0)]
    first = entry(caller, "a1", 12_000, (10, 2))
    settled = await running.hub.budget.settle(hold, first)
    assert writer.alone == before + 2
    assert settled.thresholds == []
    assert await counters(running) == [("team", 0, 12_000, 0, 12)]
    (record,) = await usage_rows(running.hub)
    assert (record.id, record.request_id, record.cost_micros) == (settled.usage_id, "a1", 12_000)
    async with running.hub.sessions() as session:
        assert list(await session.scalars(select(Reservation))) == []
    # The record's rollup rows, exactly; a second record adds to the same rows.
    expected = {
        tuple(row[k] for k in ROLLUP_KEY): tuple(row[s] for s in SUM_COLUMNS)
        for row in merged_rows(rollup_rows(first, record.created_at))
    }
    assert await rollups(running) == expected
    hold = await running.hub.budget.reserve(caller, cost_micros=30_000, tokens=30)
    await running.hub.budget.settle(hold, entry(caller, "a2", 12_000, (10, 2)))
    assert writer.alone == before + 4
    assert await rollups(running) == {
        key: tuple(2 * v for v in sums) for key, sums in expected.items()
    }


async def test_a_refusal_after_a_counter_took_the_hold_leaves_nothing_held(
    running: RunningHub,
) -> None:
    key_id = running.key.id
    async with running.hub.sessions.begin() as session:
        session.add(Quota(scope="key", scope_id=key_id, window="month", cost_limit_micros=10**9))
    caller = Caller(team_id=running.team.id, team_name=running.team.name, key_id=key_id)
    writer = running.hub.budget.writer
    await running.hub.budget.quotas.of(caller)
    before = writer.alone
    await running.hub.budget.reserve(caller, cost_micros=60_000, tokens=6)
    assert writer.alone == before + 1
    # The key's counter (first in lock order) has room, the team's has not: the statement
    # took the key's hold before the team refused, and is rolled back whole.
    with pytest.raises(QuotaExceeded) as refused:
        await running.hub.budget.reserve(caller, cost_micros=60_000, tokens=6)
    assert writer.alone == before + 1
    assert "team" in str(refused.value).lower() or "acme" in str(refused.value)
    assert await counters(running) == [("key", 60_000, 0, 6, 0), ("team", 60_000, 0, 6, 0)]
    async with running.hub.sessions() as session:
        assert len(list(await session.scalars(select(Reservation)))) == 1


async def test_a_settle_that_crosses_a_threshold_is_written_in_a_transaction(
    running: RunningHub,
) -> None:
    writer = running.hub.budget.writer
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    await running.hub.budget.quotas.of(caller)
    hold = await running.hub.budget.reserve(caller, cost_micros=90_000, tokens=90)
    before = writer.alone
    settled = await running.hub.budget.settle(hold, entry(caller, "t1", 85_000, (80, 5)))
    assert writer.alone == before  # 85% of the budget: the transaction notes the 80% mark
    assert [t["threshold_percent"] for t in settled.thresholds] == [80]
    async with running.hub.sessions() as session:
        alerts = [(a.metric, a.threshold) for a in await session.scalars(select(BudgetAlert))]
    assert alerts == [("cost", 80)]
    assert await counters(running) == [("team", 0, 85_000, 0, 85)]
    assert len(await usage_rows(running.hub)) == 1


async def test_a_late_settle_after_the_hold_was_released_is_written_in_a_transaction(
    running: RunningHub,
) -> None:
    writer = running.hub.budget.writer
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    await running.hub.budget.quotas.of(caller)
    hold = await running.hub.budget.reserve(caller, cost_micros=40_000, tokens=40)
    running.clock.advance(2 * 3600)  # type: ignore[attr-defined]
    assert await running.hub.budget.release_stale(timedelta(hours=1)) == 1
    before = writer.alone
    await running.hub.budget.settle(hold, entry(caller, "late", 10_000, (5, 5)))
    assert writer.alone == before
    assert await counters(running) == [("team", 0, 10_000, 0, 10)]
    (record,) = await usage_rows(running.hub)
    assert record.request_id == "late"
    assert await rollups(running) != {}
