"""The ledger writer's loop steps (#14): a job queued is written in the loop's next step,
whether the batch is written at once (SQLite: a callback) or awaited (PostgreSQL: the
writer's task, begun when the job queued), and its future is done in that same step."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from hub.ledger.writer import LedgerWriter, Tx
from tests.support.hubs import RunningHub, start_hub


@pytest.fixture
async def running(database_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub({}, database_url=database_url)
    try:
        yield hub
    finally:
        await hub.close()


class Noted:
    """A group whose jobs write nothing (no round trip): each notes the loop step it ran in,
    alone (`Alone`, PostgreSQL) or in a batch."""

    def __init__(self, steps: list[None]) -> None:
        self.steps = steps
        self.ran: list[int] = []

    def write(self, tx: Tx, items: Sequence[str]) -> list[str]:
        self.ran.extend(len(self.steps) for _ in items)
        return list(items)

    def write_alone(self, tx: Tx, item: str) -> str:
        self.ran.append(len(self.steps))
        return item


async def test_a_job_is_written_and_done_in_the_loop_step_after_it_queued(
    running: RunningHub,
) -> None:
    writer = running.hub.ledger_writer
    steps: list[None] = []
    group = Noted(steps)
    assert await writer.submit(group, "warm") == "warm"  # the writer's connection taken

    async def counting() -> None:
        while True:
            steps.append(None)
            await asyncio.sleep(0)

    counter = asyncio.ensure_future(counting())
    await asyncio.sleep(0)
    try:
        queued = len(steps)
        future = writer.queue(group, "one")
        await asyncio.sleep(0)  # one loop step
        assert group.ran == [0, queued + 1]  # written in it (the writer ran after the counter)
        assert future.done() and future.result() == "one"
    finally:
        counter.cancel()


@pytest.mark.postgres
async def test_a_writer_task_cancelled_before_it_ran_still_writes_the_queue_on_close(
    postgres_url: str,
) -> None:
    """At shutdown the loop may cancel the writer's task (begun as the job queued) before its
    first step: closing the writer then writes the queue itself instead of waiting forever."""
    running = await start_hub({}, database_url=postgres_url)
    try:
        writer = running.hub.ledger_writer
        group = Noted([])
        future = writer.queue(group, "late")
        (flusher,) = [t for t in asyncio.all_tasks() if t.get_name() == "hub-ledger"]
        flusher.cancel()
        await asyncio.wait_for(writer.close(), 30)  # a bound on a hang, not a timing
        assert future.result() == "late"
    finally:
        await running.close()


async def test_a_writer_task_cancelled_before_it_ran_leaves_the_writer_writing() -> None:
    """Cancelled before its first step while the hub goes on (a test's teardown, an embedder
    cancelling its tasks): the next job still gets written, and the cancelled task's too,
    where the writer went on thinking a flush was under way and every later job waited
    forever (`Hub.close` hung in `instances.leave`, whose recovery is a writer job)."""
    engine = create_async_engine("sqlite+aiosqlite://")  # every batch awaited, as PostgreSQL
    writer = LedgerWriter(engine)
    try:
        group = Noted([])
        first = writer.queue(group, "first")
        (flusher,) = [t for t in asyncio.all_tasks() if t.get_name() == "hub-ledger"]
        flusher.cancel()
        await asyncio.gather(flusher, return_exceptions=True)
        assert flusher.cancelled()
        after = await asyncio.wait_for(writer.submit(group, "after"), 30)  # a bound on a hang
        assert after == "after"
        assert first.result() == "first"
    finally:
        await writer.close()
        await engine.dispose()


async def test_a_batch_waiting_for_the_lock_is_written_on_close_when_its_task_was_cancelled(
    tmp_path: Path,
) -> None:
    """SQLite file: a batch that found the write lock taken went to a task of its own; that
    task cancelled before its first step (the loop shutting down) left its batch unwritten
    and its callers waiting, while `close` wrote only what queued after it."""
    path = tmp_path / "ledger.db"
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    writer = LedgerWriter(engine)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        group = Noted([])
        assert await writer.submit(group, "warm") == "warm"  # the writer's connection made
        other.execute("BEGIN IMMEDIATE")  # the write lock, held by another connection
        waiting = writer.queue(group, "waiting")
        await asyncio.sleep(0)  # the flush ran, found the lock taken, and began its task
        (flusher,) = [t for t in asyncio.all_tasks() if t.get_name() == "hub-ledger"]
        flusher.cancel()
        other.execute("ROLLBACK")
        later = writer.queue(group, "later")
        await asyncio.wait_for(writer.close(), 30)  # a bound on a hang, not a timing
        assert waiting.result() == "waiting"
        assert later.result() == "later"
    finally:
        other.close()
        await engine.dispose()
