"""hub/uncancelled.py: `outlast` waits for the work however often its caller is cancelled,
and says whether it was."""

from __future__ import annotations

import asyncio

from hub.uncancelled import outlast, ready_once


async def test_the_work_ends_and_no_cancellation_is_reported() -> None:
    work = asyncio.ensure_future(asyncio.sleep(0, result="held"))
    assert await outlast(work) is False
    assert work.result() == "held"


async def test_cancellations_of_the_caller_do_not_reach_the_work() -> None:
    release = asyncio.Event()
    finished: list[str] = []

    async def money() -> str:
        await release.wait()
        finished.append("settled")
        return "settled"

    work = asyncio.ensure_future(money())
    waiting = asyncio.ensure_future(outlast(work))
    await asyncio.sleep(0)
    for _ in range(3):  # cancelled again and again while the work runs
        waiting.cancel()
        await asyncio.sleep(0)
        assert not waiting.done()
        assert not work.done()
    release.set()
    assert await waiting is True
    assert finished == ["settled"]
    assert work.result() == "settled"


async def test_a_failing_work_is_left_for_the_caller_to_read() -> None:
    async def refused() -> None:
        await asyncio.sleep(0)
        raise LookupError("quota")

    work = asyncio.ensure_future(refused())
    assert await outlast(work) is False
    assert isinstance(work.exception(), LookupError)


async def test_a_cancellation_after_the_work_woke_the_caller_is_still_reported() -> None:
    work = asyncio.get_running_loop().create_future()
    waiting = asyncio.ensure_future(outlast(work))
    await asyncio.sleep(0)
    work.set_result(None)  # wakes the waiter's callback ...
    waiting.cancel()  # ... and the caller is cancelled before it resumes
    assert await waiting is True


async def _steps_until_woken(told: bool) -> int:
    """Loop steps another task took while the caller outlasted a work of one step."""
    steps: list[None] = []
    ready = asyncio.get_running_loop().create_future() if told else None

    async def settle() -> str:
        await asyncio.sleep(0)
        if ready is not None:
            ready_once(ready)
        return "settled"

    async def counting() -> None:
        while True:
            steps.append(None)
            await asyncio.sleep(0)

    counter = asyncio.ensure_future(counting())
    work = asyncio.ensure_future(settle())
    assert await outlast(work, ready) is False
    counter.cancel()
    assert work.result() == "settled"
    return len(steps)


async def test_a_work_that_says_it_is_ready_wakes_the_caller_a_step_sooner() -> None:
    assert await _steps_until_woken(told=True) == await _steps_until_woken(told=False) - 1


async def test_a_caller_cancelled_while_waiting_on_ready_still_outlasts_the_work() -> None:
    release = asyncio.Event()
    ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def money() -> str:
        await release.wait()
        ready_once(ready)  # cancelled with the caller: left so
        return "settled"

    work = asyncio.ensure_future(money())
    waiting = asyncio.ensure_future(outlast(work, ready))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.sleep(0)
    assert not waiting.done()
    assert ready.cancelled()
    release.set()
    assert await waiting is True
    assert work.result() == "settled"
