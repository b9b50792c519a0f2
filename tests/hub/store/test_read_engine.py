"""Reports on their own connections (#14.5): on SQLite a report runs while the chat path's
single writer connection is busy, and cannot write; each report session one snapshot that
never holds up a writer; the event loop choice of `hub serve`."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from hub.cli.serve import loop_factory
from hub.store.engine import shares_pool
from hub.store.ledger_tables import Team
from tests.support.hubs import start_hub


async def test_a_report_does_not_wait_for_the_writer(sqlite_url: str) -> None:
    running = await start_hub({}, database_url=sqlite_url)
    try:
        assert running.hub.read_engine is not running.hub.engine
        async with running.hub.engine.begin() as writer:  # holds the only writer connection
            await writer.execute(text("UPDATE teams SET name = name"))
            totals = await asyncio.wait_for(running.hub.usage.totals(), timeout=10)
        assert totals.requests == 0
        async with running.hub.read_engine.connect() as reader:
            with pytest.raises(OperationalError, match="readonly"):
                await reader.execute(text("DELETE FROM teams"))
    finally:
        await running.close()


@pytest.mark.postgres
async def test_postgresql_reads_through_the_one_pool(postgres_url: str) -> None:
    running = await start_hub({}, database_url=postgres_url)
    try:
        assert shares_pool(running.hub.read_engine, running.hub.engine)
        assert running.hub.engine.pool._pre_ping is False  # noqa: SLF001 - no ping per checkout
    finally:
        await running.close()


async def test_a_reports_snapshot_does_not_hold_up_the_writer(database_url: str) -> None:
    """A report session keeps the snapshot of its first read while the writer commits
    beside it (SQLite in WAL: its BEGIN IMMEDIATE does not wait for the reader)."""
    running = await start_hub({}, database_url=database_url)
    teams = select(func.count()).select_from(Team)
    try:
        async with running.hub.read_sessions() as report:
            before = await report.scalar(teams)
            await asyncio.wait_for(running.hub.teams.create("late"), timeout=10)
            assert await report.scalar(teams) == before
            if report.get_bind().dialect.name == "sqlite":
                assert await report.scalar(text("PRAGMA journal_mode")) == "wal"
            else:
                assert await report.scalar(text("SHOW transaction_isolation")) == "repeatable read"
                assert await report.scalar(text("SHOW transaction_read_only")) == "on"
        async with running.hub.read_sessions() as report:
            assert await report.scalar(teams) == (before or 0) + 1
    finally:
        await running.close()


def test_the_event_loop_setting() -> None:
    import uvloop

    assert loop_factory("auto") is uvloop.new_event_loop
    assert loop_factory("uvloop") is uvloop.new_event_loop
    assert loop_factory("asyncio") is None
