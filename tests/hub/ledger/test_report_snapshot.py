"""A report reads one snapshot: a write that commits between its statements (a late settle
rewriting a past record, which moves both the day bucket and the finer buckets a report
takes back out of it) is either wholly in the figure or wholly out of it, never half."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.util import await_only

from hub.ledger.usage_writer import rewrite_usage
from hub.store.ledger_tables import UsageRecord
from tests.hub.ledger.test_rollups import entry, record, replace_usage
from tests.support.hubs import RunningHub, start_hub

SINCE = datetime(2026, 5, 1, tzinfo=UTC)
# More than half a day: the day bucket of 1 May, 13:00-24:00 taken back out of it
# (hub/ledger/summary_plan.plan_range) by a later statement.
UNTIL = datetime(2026, 5, 1, 13, tzinfo=UTC)
INSIDE = datetime(2026, 5, 1, 10, 15, tzinfo=UTC)
OUTSIDE = datetime(2026, 5, 1, 20, 15, tzinfo=UTC)  # in the day bucket, not in the range


@pytest.fixture
async def running(database_url: str) -> AsyncIterator[tuple[RunningHub, list[int]]]:
    running = await start_hub({}, database_url=database_url, team="one")
    try:
        yield running, [running.team.id]
    finally:
        await running.hub.close()


async def recorded_cost(running: RunningHub) -> int:
    """SUM over usage_records in [SINCE, UNTIL): the figure every report must equal."""
    async with running.hub.sessions() as session:
        found = await session.scalar(
            select(func.coalesce(func.sum(UsageRecord.cost_micros), 0)).where(
                UsageRecord.created_at >= SINCE, UsageRecord.created_at < UNTIL
            )
        )
    return int(found or 0)


async def test_a_rewrite_committed_between_a_reports_statements_is_not_half_counted(
    running: tuple[RunningHub, list[int]],
) -> None:
    hub_, team_ids = running
    inside = record(when=INSIDE, cost=100)
    outside = record(when=OUTSIDE, status="interrupted", cost=900)
    await replace_usage(hub_, [inside, outside], team_ids)
    async with hub_.hub.sessions() as session:
        usage_id = await session.scalar(
            select(UsageRecord.id).where(UsageRecord.created_at == OUTSIDE)
        )
    assert usage_id is not None
    before = await recorded_cost(hub_)
    settled = record(when=OUTSIDE, status="ok", cost=250)

    async def late_settle() -> None:
        async with hub_.hub.sessions.begin() as session:
            await rewrite_usage(session, usage_id, entry(1, settled, team_ids), created_at=OUTSIDE)

    report: dict[str, Any] = {"conn": None, "after_write": 0}
    writing = False

    def between_statements(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        """The late settle committed once, on the report's second statement: after its first
        (the day bucket) read, before the quarters it takes out of it are."""
        nonlocal writing
        if writing or statement.lstrip().upper().startswith("BEGIN"):
            return  # the settle's own statements (PostgreSQL: the same pool), a BEGIN
        if report["conn"] is None:
            if "usage_rollups" in statement:
                report["conn"] = conn
            return
        if conn is not report["conn"]:
            return
        if report["after_write"] == 0:
            writing = True
            try:
                await_only(late_settle())
            finally:
                writing = False
        report["after_write"] += 1

    engine = hub_.hub.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", between_statements)
    try:
        during = await hub_.hub.usage.summary(since=SINCE, until=UNTIL)
    finally:
        event.remove(engine, "before_cursor_execute", between_statements)
    after = await recorded_cost(hub_)

    assert report["after_write"] >= 1  # the write did land between the report's statements
    assert before == after == 100  # the rewritten record is outside the range
    assert during.total.cost_micros == before
    assert during.total.requests == 1
    assert (await hub_.hub.usage.summary(since=SINCE, until=UNTIL)).total.cost_micros == after
