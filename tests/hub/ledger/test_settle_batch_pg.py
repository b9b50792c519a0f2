"""PostgreSQL: a batch's settlements in one statement (hub/ledger/pg_settle_batch.py): the
holds released, the counters moved, the records and their rollups written when every hold
was there; when one is gone, no record or rollup from the statement, and the batch still
settles each request exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select, text

from hub.ledger.holds import Hold
from hub.ledger.pg_rollups import FACT_COLUMNS, FACT_TYPE, FACT_TYPES
from hub.ledger.pg_settle_batch import settle_batch_pg
from hub.ledger.rollups import SUM_COLUMNS, merged_rows, rollup_rows
from hub.ledger.settling import _RELEASE_AND_MOVE_PG, SettleItem, _release_params
from hub.ledger.writer import Tx
from hub.model import Caller, Origin
from hub.store.ledger_tables import BudgetCounter, Reservation
from hub.store.rollup_tables import ROLLUP_KEY
from tests.hub.ledger.test_alone_pg import entry, rollups
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


async def reserved(running: RunningHub, count: int) -> tuple[Caller, list[Hold]]:
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    await running.hub.budget.quotas.of(caller)
    holds = [
        await running.hub.budget.reserve(caller, cost_micros=30_000, tokens=30)
        for _ in range(count)
    ]
    return caller, holds


async def ledger(running: RunningHub) -> tuple[int, int, int]:
    """(holds, cost reserved, cost spent) on the team's counters."""
    async with running.hub.sessions() as session:
        holds = await session.scalar(select(func.count()).select_from(Reservation))
        counter = (await session.execute(
            select(BudgetCounter.cost_reserved_micros, BudgetCounter.cost_spent_micros)
        )).one()  # fmt: skip
    return int(holds or 0), int(counter[0]), int(counter[1])


def items_of(running: RunningHub, caller: Caller, holds: list[Hold]) -> list[SettleItem]:
    now = running.clock.now()
    return [
        SettleItem(hold, entry(caller, f"r{n}", 10_000 + n, (10, n)), now, frozenset())
        for n, hold in enumerate(holds)
    ]


def batch(items: list[SettleItem]) -> Any:
    def work(tx: Tx) -> Any:
        return settle_batch_pg(tx, _RELEASE_AND_MOVE_PG.statement, items, _release_params(items))

    return work


async def test_every_hold_there_writes_records_and_rollups_in_the_statement(
    running: RunningHub,
) -> None:
    caller, holds = await reserved(running, 3)
    items = items_of(running, caller, holds)
    released, moved, recorded = await running.hub.ledger_writer.run(batch(items))
    assert released == {hold.id for hold in holds}
    assert recorded is not None
    records = {r.request_id: r for r in await usage_rows(running.hub)}
    assert recorded == {request_id: r.id for request_id, r in records.items()}
    assert [records[f"r{n}"].cost_micros for n in range(3)] == [10_000, 10_001, 10_002]
    assert await ledger(running) == (0, 0, 30_003)
    ((counter_id, spent),) = moved.items()
    assert counter_id == holds[0].counter_ids[0] and spent == (30_003, 33)
    # The rollups are the records' sums: one request per record in every cube's quarter.
    sums = await rollups(running)
    assert sums and all(values[0] == 3 for key, values in sums.items() if key[0] == "model")


async def test_a_hold_gone_writes_no_record_in_the_statement(running: RunningHub) -> None:
    caller, holds = await reserved(running, 3)
    items = items_of(running, caller, holds)
    await running.hub.budget.settle(holds[0], items[0].entry)  # its hold is gone now
    released, _, recorded = await running.hub.ledger_writer.run(batch(items))
    assert (released, recorded) == ({holds[1].id, holds[2].id}, None)
    # Released and moved, but the records are the caller's to write (`Settle` does).
    assert [r.request_id for r in await usage_rows(running.hub)] == ["r0"]
    assert (await ledger(running))[:2] == (0, 0)


async def test_a_batch_with_a_replayed_settlement_books_each_request_once(
    running: RunningHub,
) -> None:
    caller, holds = await reserved(running, 3)
    items = items_of(running, caller, holds)
    await running.hub.budget.settle(holds[0], items[0].entry)
    settled = await asyncio.gather(
        *(running.hub.budget.settle(item.hold, item.entry) for item in items)
    )
    records = {r.request_id: r for r in await usage_rows(running.hub)}
    assert sorted(records) == ["r0", "r1", "r2"]
    assert [s.usage_id for s in settled] == [records[f"r{n}"].id for n in range(3)]
    assert await ledger(running) == (0, 0, 30_003)
    sums = await rollups(running)
    assert all(values[0] == 3 for key, values in sums.items() if key[0] == "model")


async def test_the_batch_writes_each_rollup_row_as_the_sum_of_its_records(
    running: RunningHub,
) -> None:
    # Records of different identities (user, first token, fail-over) share some keys (the
    # cubes that drop the user) and not others; every row is exactly its records' sums.
    caller, holds = await reserved(running, 4)
    now = running.clock.now()
    entries = [entry(caller, f"r{n}", 10_000 + n, (10 + n, n)) for n in range(4)]
    entries[1] = replace(entries[1], origin=Origin(connector="test", user="u2", channel="c1"))
    entries[2] = replace(entries[2], ttft_ms=None, latency_ms=900)
    entries[3] = replace(entries[3], first_deployment="up/other")
    items = [SettleItem(h, e, now, frozenset()) for h, e in zip(holds, entries, strict=True)]
    *_, recorded = await running.hub.ledger_writer.run(batch(items))
    assert recorded is not None and len(recorded) == 4
    stored = {r.request_id: r for r in await usage_rows(running.hub)}
    expected = {
        tuple(row[k] for k in ROLLUP_KEY): tuple(row[s] for s in SUM_COLUMNS)
        for row in merged_rows(
            row for e in entries for row in rollup_rows(e, stored[e.request_id].created_at)
        )
    }
    assert len(expected) > 24  # the identities' keys differ somewhere
    assert await rollups(running) == expected


async def test_the_rollup_fact_type_is_the_facts_columns_with_the_tables_types(
    running: RunningHub,
) -> None:
    # The statements bind each record's facts as FACT_COLUMNS-ordered tuples of this type
    # (0022), each typed as the rollup column it lands in; 0021's row type is gone.
    def of(relation: str) -> Any:
        return text(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute AS a "
            "JOIN pg_class AS c ON c.oid = a.attrelid WHERE c.relname = :relation "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        ).bindparams(relation=relation)

    async with running.hub.sessions() as session:
        attributes = [(r[0], r[1]) for r in await session.execute(of(FACT_TYPE))]
        table = {r[0]: r[1] for r in await session.execute(of("usage_rollups"))}
        old = list(await session.execute(of("usage_rollup_row")))
        staged = [(r[0], r[1]) for r in await session.execute(of("usage_rollup_staged"))]
    assert [name for name, _ in attributes] == list(FACT_COLUMNS)
    # The settlements stage the facts by position (`INSERT … SELECT * FROM unnest(…)`).
    assert staged[0][0] == "id" and staged[1:] == attributes
    assert [kind for _, kind in attributes] == [table[FACT_TYPES[n]] for n in FACT_COLUMNS]
    assert old == []
