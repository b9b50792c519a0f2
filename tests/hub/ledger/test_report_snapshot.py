"""A report reads one snapshot: a write that commits between its statements (a late settle
rewriting a past record, which moves both the day bucket and the finer buckets a report
takes back out of it) is either wholly in the figure or wholly out of it, never half."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.util import await_only

from hub.ledger.usage_entry import UsageEntry
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
    usage_id = await usage_with_one_record_outside(hub_, team_ids)
    before = await recorded_cost(hub_)
    settled = record(when=OUTSIDE, status="ok", cost=250, latency=5_000)
    with settle_between_statements(hub_, usage_id, entry(1, settled, team_ids)) as settle:
        during = await hub_.hub.usage.summary(since=SINCE, until=UNTIL)
    after = await recorded_cost(hub_)

    assert settle["after_write"] >= 1  # the write did land between the report's statements
    assert before == after == 100  # the rewritten record is outside the range
    assert during.total.cost_micros == before
    assert during.total.requests == 1 and during.total.errors == 0
    assert (await hub_.hub.usage.summary(since=SINCE, until=UNTIL)).total.cost_micros == after


async def test_a_rewrite_committed_between_a_histograms_statements_is_not_half_counted(
    running: tuple[RunningHub, list[int]],
) -> None:
    """The latency histogram of the same range: the settled record's new latency is not
    taken out of a day bucket that still counted its old one."""
    hub_, team_ids = running
    usage_id = await usage_with_one_record_outside(hub_, team_ids)
    settled = record(when=OUTSIDE, status="ok", cost=250, latency=5_000)
    with settle_between_statements(hub_, usage_id, entry(1, settled, team_ids)) as settle:
        during = await hub_.hub.usage.histograms("latency", since=SINCE, until=UNTIL)
    after = await hub_.hub.usage.histograms("latency", since=SINCE, until=UNTIL)

    assert settle["after_write"] >= 1
    assert list(during) == list(after) == [()]
    assert during[()].count == 1  # the one record inside, at 100 ms before and after
    assert during[()] == after[()]


async def usage_with_one_record_outside(running: RunningHub, team_ids: list[int]) -> int:
    """One record inside the range, and one in the same day bucket outside it (an
    `interrupted` estimate a late settle then rewrites); the latter's id."""
    inside = record(when=INSIDE, cost=100)
    outside = record(when=OUTSIDE, status="interrupted", cost=900)
    await replace_usage(running, [inside, outside], team_ids)
    async with running.hub.sessions() as session:
        usage_id = await session.scalar(
            select(UsageRecord.id).where(UsageRecord.created_at == OUTSIDE)
        )
    assert usage_id is not None
    return usage_id


@contextmanager
def settle_between_statements(
    running: RunningHub, usage_id: int, settled: UsageEntry
) -> Iterator[dict[str, Any]]:
    """While open: the late settle of `usage_id` to `settled`, committed through the hub's
    writer once, on the next report's second statement (after its first, the day bucket,
    before the quarters it takes out of it are read)."""

    async def late_settle() -> None:
        async with running.hub.sessions.begin() as session:
            await rewrite_usage(session, usage_id, settled, created_at=OUTSIDE)

    report: dict[str, Any] = {"conn": None, "after_write": 0}
    writing = False

    def between_statements(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal writing
        if writing or statement.lstrip().upper().startswith(("BEGIN", "SET")):
            return  # the settle's own statements (PostgreSQL: the same pool), BEGIN, SET
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

    engine = running.hub.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", between_statements)
    try:
        yield report
    finally:
        event.remove(engine, "before_cursor_execute", between_statements)
