"""PostgreSQL: a batch's only reservation or settlement is one statement in autocommit, and
every case that statement does not cover (a refusal, a threshold crossed, a hold already
gone) is written in a transaction as before, with nothing of the statement left behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from hub.errors import QuotaExceeded
from hub.ledger.rollups import SUM_COLUMNS, merged_rows, rollup_rows
from hub.ledger.usage_entry import UsageEntry
from hub.model import Caller, Origin, Usage
from hub.store.event_tables import BudgetAlert
from hub.store.ledger_tables import BudgetCounter, Quota, Reservation, UsageRecord
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
    await running.hub.folder.fold()  # the staged facts, in the table read here
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


async def test_a_refusal_no_counter_took_is_answered_by_the_statement_itself(
    running: RunningHub,
) -> None:
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    writer = running.hub.budget.writer
    await running.hub.budget.quotas.of(caller)
    await running.hub.budget.reserve(caller, cost_micros=60_000, tokens=6)
    before = writer.alone
    # The team's counter (the only one) has no room: nothing was held, nothing to roll back.
    with pytest.raises(QuotaExceeded) as alone:
        await running.hub.budget.reserve(caller, cost_micros=60_000, tokens=6)
    assert writer.alone == before + 1
    # The same refusal made in a transaction (two in one batch): the same answer.
    both = await asyncio.gather(
        running.hub.budget.reserve(caller, cost_micros=60_000, tokens=6),
        running.hub.budget.reserve(caller, cost_micros=50_000, tokens=5),
        return_exceptions=True,
    )
    assert writer.alone == before + 1
    assert [type(r) for r in both] == [QuotaExceeded, QuotaExceeded]
    assert str(both[0]) == str(alone.value)
    assert await counters(running) == [("team", 60_000, 0, 6, 0)]
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


LIMIT_MICROS, LIMIT_TOKENS = 100_000, 1_000
NEAR = settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def limited(postgres_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub(
        {},
        database_url=postgres_url,
        monthly_budget_micros=LIMIT_MICROS,
        monthly_token_quota=LIMIT_TOKENS,
    )
    try:
        yield hub
    finally:
        await hub.close()


@NEAR
@example(spent=85_000, cost=5_000, used=850, tokens=(30, 20))  # 85% -> 90%: alone
@example(spent=79_999, cost=1, used=0, tokens=(0, 0))  # exactly onto 80%
@example(spent=99_000, cost=1_000, used=990, tokens=(5, 5))  # exactly onto 100%, both
@example(spent=99_999, cost=150_000, used=999, tokens=(600, 600))  # past the limit
@example(spent=100, cost=100, used=799, tokens=(1, 0))  # the token limit's 80%
@given(
    spent=st.integers(0, LIMIT_MICROS - 1),
    cost=st.integers(0, LIMIT_MICROS * 3 // 2),
    used=st.integers(0, LIMIT_TOKENS - 1),
    tokens=st.tuples(st.integers(0, 600), st.integers(0, 600)),
)
async def test_a_settle_is_one_statement_unless_it_crosses_a_threshold(
    limited: RunningHub, spent: int, cost: int, used: int, tokens: tuple[int, int]
) -> None:
    """Near or past 80% of a budget, a settle that crosses no mark is written alone (no
    failed statement); one that crosses 80% or 100% of either limit, in a transaction,
    which announces it. Either way the counters move by exactly the record's figures."""
    hub = limited.hub
    caller = Caller(team_id=limited.team.id, team_name=limited.team.name)
    await hub.budget.quotas.of(caller)

    async def spend() -> None:  # the counter as drawn (before the hold: the last example's)
        async with hub.sessions.begin() as session:
            await session.execute(delete(BudgetAlert))
            await session.execute(
                update(BudgetCounter).values(cost_spent_micros=spent, tokens_spent=used)
            )

    await spend()
    hold = await hub.budget.reserve(caller, cost_micros=1, tokens=1)
    await spend()  # the first example's counter is the reservation's
    before = hub.budget.writer.alone
    request = f"near-{spent}-{cost}-{used}-{tokens}"
    settled = await hub.budget.settle(hold, entry(caller, request, cost, tokens))
    charged = sum(tokens)
    crossed = sorted(
        (metric, percent)
        for metric, was, now, ceiling in (
            ("cost", spent, spent + cost, LIMIT_MICROS),
            ("tokens", used, used + charged, LIMIT_TOKENS),
        )
        for percent in (80, 100)
        if was * 100 < ceiling * percent <= now * 100
    )
    assert hub.budget.writer.alone == before + (not crossed)
    assert sorted((t["metric"], t["threshold_percent"]) for t in settled.thresholds) == crossed
    assert await counters(limited) == [("team", 0, spent + cost, 0, used + charged)]
    async with hub.sessions() as session:
        record = await session.scalar(select(UsageRecord).where(UsageRecord.request_id == request))
    assert record is not None and record.cost_micros == cost
