"""A job still running when the scheduler shuts down is stopped, not reported as a failure."""

from __future__ import annotations

import asyncio
import logging

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from hub.job_executor import StoppingExecutor


async def test_a_job_cancelled_by_the_shutdown_is_one_info_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = asyncio.Event()

    async def long_job() -> None:
        started.set()
        await asyncio.Event().wait()  # runs until cancelled

    async def failing_job() -> None:
        raise RuntimeError("a real failure")

    scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": StoppingExecutor()})
    scheduler.add_job(long_job, id="long")
    scheduler.add_job(failing_job, id="failing")
    with caplog.at_level(logging.INFO):
        scheduler.start()
        await asyncio.wait_for(started.wait(), 10)
        for _ in range(5):
            await asyncio.sleep(0)  # the failing job has run and been reported
        scheduler.shutdown(wait=False)
        for _ in range(5):
            await asyncio.sleep(0)  # the cancellation reaches the job and its callback
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    # The real failure is still an error with its traceback; the stopped job is not.
    assert [r.exc_info[1].args for r in errors if r.exc_info] == [("a real failure",)]
    stopped = [
        r.getMessage() for r in caplog.records if "stopped by the shutdown" in r.getMessage()
    ]
    assert len(stopped) == 1 and "long_job" in stopped[0], stopped
