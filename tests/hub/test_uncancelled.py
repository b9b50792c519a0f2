"""hub/uncancelled.py: `outlast` waits for the work however often its caller is cancelled,
and says whether it was; `within` waits for it a bounded time, and neither its timeout nor
the caller's cancellation reaches the work."""

from __future__ import annotations

import asyncio

import pytest
from looptime import LoopTimeProxy

from hub.uncancelled import outlast, outlast_until, within


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


async def _steps_until_woken(*, outlasting: bool = False, bounded: bool = False) -> int:
    """Loop steps another task took while the caller waited for a work of one step."""
    steps: list[None] = []

    async def settle() -> str:
        await asyncio.sleep(0)
        return "settled"

    async def counting() -> None:
        while True:
            steps.append(None)
            await asyncio.sleep(0)

    counter = asyncio.ensure_future(counting())
    work = asyncio.ensure_future(settle())
    if outlasting:
        assert await outlast(work) is False
    elif bounded:
        await within(work, 3600)
    else:
        await work
    counter.cancel()
    assert work.result() == "settled"
    return len(steps)


async def test_the_caller_goes_on_in_the_step_after_the_work_as_awaiting_it_would() -> None:
    # No waiter between the work and the caller: no loop iteration more than `await work`.
    assert await _steps_until_woken(outlasting=True) == await _steps_until_woken(outlasting=False)


async def test_a_work_cancelled_on_its_own_is_not_the_callers_cancellation() -> None:
    work = asyncio.ensure_future(asyncio.sleep(3600))
    waiting = asyncio.ensure_future(outlast(work))
    await asyncio.sleep(0)
    work.cancel()
    assert await waiting is False
    assert work.cancelled()


async def test_a_caller_cancelled_as_its_work_is_cancelled_says_so() -> None:
    work = asyncio.ensure_future(asyncio.sleep(3600))
    waiting = asyncio.ensure_future(outlast(work))
    await asyncio.sleep(0)
    work.cancel()
    waiting.cancel()
    assert await waiting is True


async def test_a_bounded_wait_goes_on_in_the_step_after_the_work_as_awaiting_it_would() -> None:
    # asyncio.wait((work,), timeout=...) resumed the caller a loop step later: its waiter.
    assert await _steps_until_woken(bounded=True) == await _steps_until_woken()


@pytest.mark.looptime
async def test_a_bounded_wait_gives_up_at_its_timeout_and_the_work_goes_on(
    looptime: LoopTimeProxy,
) -> None:
    release = asyncio.Event()

    async def money() -> str:
        await release.wait()
        return "settled"

    work = asyncio.ensure_future(money())
    await within(work, 5)
    assert looptime == 5
    assert not work.done()
    release.set()
    assert await work == "settled"


async def test_a_bounded_wait_leaves_the_works_failure_and_its_own_cancellation_to_the_caller() -> (
    None
):
    async def refused() -> None:
        await asyncio.sleep(0)
        raise LookupError("quota")

    failing = asyncio.ensure_future(refused())
    await within(failing, 3600)
    assert isinstance(failing.exception(), LookupError)
    stopped = asyncio.ensure_future(asyncio.sleep(3600))
    waiting = asyncio.ensure_future(within(stopped, 3600))
    await asyncio.sleep(0)
    stopped.cancel()
    await waiting  # not the caller's cancellation: nothing raised
    assert stopped.cancelled()


async def test_a_caller_cancelled_in_a_bounded_wait_is_cancelled_and_the_work_goes_on() -> None:
    release = asyncio.Event()
    work = asyncio.ensure_future(release.wait())
    waiting = asyncio.ensure_future(within(work, 3600))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert not work.done()
    release.set()
    assert await work is True


async def test_a_caller_cancelled_after_the_work_woke_it_is_still_cancelled() -> None:
    work = asyncio.get_running_loop().create_future()
    waiting = asyncio.ensure_future(within(work, 3600))
    await asyncio.sleep(0)
    work.set_result(None)  # wakes the caller's task ...
    waiting.cancel()  # ... which is cancelled before it resumes
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert work.result() is None


async def test_outlasting_until_waits_through_cancellations_and_says_so() -> None:
    release = asyncio.Event()
    work = asyncio.ensure_future(release.wait())
    waiting = asyncio.ensure_future(outlast_until(work, 3600))
    await asyncio.sleep(0)
    for _ in range(2):
        waiting.cancel()
        await asyncio.sleep(0)
        assert not waiting.done()
    release.set()
    assert await waiting is True
    assert work.result() is True


@pytest.mark.looptime
async def test_outlasting_until_gives_up_at_its_timeout_and_the_work_goes_on(
    looptime: LoopTimeProxy,
) -> None:
    release = asyncio.Event()
    work = asyncio.ensure_future(release.wait())
    assert await outlast_until(work, 5) is False
    assert looptime == 5
    assert not work.done()
    release.set()
    assert await work is True
