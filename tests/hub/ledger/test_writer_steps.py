"""The ledger writer's loop steps (#14): a job queued is written in the loop's next step,
whether the batch is written at once (SQLite: a callback) or awaited (PostgreSQL: the
writer's task, begun when the job queued), and its future is done in that same step."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from hub.ledger.writer import Tx
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
