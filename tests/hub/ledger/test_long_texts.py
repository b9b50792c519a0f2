"""A usage record's texts longer than their columns (a client's model name through a
pass-through deployment, a platform's long ids): the settlement still writes its one record
and its rollups, cut to the columns' lengths, and leaves no hold, alone or in a batch, on
both backends. PostgreSQL refused such a value (`VARCHAR(n)`, and the composite rollup row),
which left the hold without a record."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from hub.ledger.usage_entry import RECORD_COLUMNS, UsageEntry, cut_to_columns
from hub.model import Caller, Origin, Usage
from hub.store.ledger_tables import Reservation
from hub.store.rollup_tables import UsageRollup
from tests.support.hubs import RunningHub, start_hub
from tests.support.records import usage_rows

LONG_DEPLOYMENT = "up/" + "m" * 247  # 250: the column holds 200
LONG_ALIAS = "a" * 150  # the column holds 100
LONG_CHANNEL = "c" * 130  # the column holds 100


@pytest.fixture
async def running(database_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub({}, database_url=database_url, monthly_budget_micros=10**9)
    try:
        yield hub
    finally:
        await hub.close()


def long_entry(caller: Caller, request_id: str) -> UsageEntry:
    return UsageEntry(
        request_id=request_id,
        caller=caller,
        origin=Origin(connector="test", user="u1", channel=LONG_CHANNEL),
        alias=LONG_ALIAS,
        deployment=LONG_DEPLOYMENT,
        usage=Usage(10, 5),
        cost_micros=7_000,
        latency_ms=12,
        ttft_ms=5,
        status="ok",
        first_deployment=LONG_DEPLOYMENT,
    )


@pytest.mark.parametrize("together", [1, 2], ids=["alone", "batch of two"])
async def test_texts_past_their_columns_are_cut_and_the_request_settles(
    running: RunningHub, together: int
) -> None:
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    budget = running.hub.budget
    await budget.quotas.of(caller)
    holds = [await budget.reserve(caller, cost_micros=30_000, tokens=30) for _ in range(together)]
    entries = [long_entry(caller, f"long-{n}") for n in range(together)]
    # Queued in the same loop iteration: one batch when there are two.
    settled = await asyncio.gather(
        *(budget.settle(hold, entry) for hold, entry in zip(holds, entries, strict=True))
    )
    records = await usage_rows(running.hub)
    assert sorted(r.id for r in records) == sorted(s.usage_id for s in settled)
    for record in records:
        assert record.deployment == LONG_DEPLOYMENT[:200]
        assert record.first_deployment == LONG_DEPLOYMENT[:200]
        assert record.alias == LONG_ALIAS[:100]
        assert record.channel == LONG_CHANNEL[:100]
        assert (record.user, record.cost_micros, record.status) == ("u1", 7_000, "ok")
    await running.hub.folder.fold()  # the staged facts in the table read below
    async with running.hub.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Reservation)) == 0
        # Every rollup row that names a deployment names the cut one, and the model rows
        # add up to the records.
        deployments = set(await session.scalars(select(UsageRollup.deployment).distinct()))
        aliases = set(await session.scalars(select(UsageRollup.alias).distinct()))
        requests = await session.scalar(
            select(func.sum(UsageRollup.requests)).where(
                UsageRollup.cube == "model", UsageRollup.grain == "day"
            )
        )
    assert deployments <= {LONG_DEPLOYMENT[:200], ""}
    assert aliases <= {LONG_ALIAS[:100], ""}
    assert requests == together


def test_a_record_within_its_columns_is_written_as_built() -> None:
    """The cut costs a record of ordinary length nothing: the same tuple, not a copy."""
    entry = replace(long_entry(Caller(team_id=1, team_name="t"), "r"), alias="gpt")
    entry = replace(entry, deployment="up/m", first_deployment=None)
    entry = replace(entry, origin=Origin(connector="test", user="u1", channel="c1"))
    now = datetime(2026, 12, 8, tzinfo=UTC)
    row = entry.row_tuple(now)
    assert cut_to_columns(row) is row
    assert dict(zip(RECORD_COLUMNS, row, strict=True))["deployment"] == "up/m"
