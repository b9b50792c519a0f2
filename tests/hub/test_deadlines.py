"""hub/deadlines.py: one timer per stream, for the idle bound and the total deadline.

The tests run on looptime's fast-forwarding loop clock: a sleep takes no real time, the
loop's clock jumps to the next timer, so the bounds are real-sized (seconds, minutes) and
each test checks *when*, on the loop's clock, a stream ended."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import TypeVar

import pytest
from looptime import LoopTimeProxy

from hub.deadlines import Bounds
from hub.errors import ProviderTimeout

pytestmark = pytest.mark.looptime
T = TypeVar("T")


async def within_deadlines(
    source: AsyncIterator[T],
    *,
    total_s: float,
    idle_s: float | None,
    expired: Callable[[str], ProviderTimeout],
) -> AsyncGenerator[T, None]:
    """A stream read the way the router and ChatStream read theirs: each item through
    `Bounds.next`, the bounds closed and the source closed however it ends."""
    bounds = Bounds(total_s=total_s, idle_s=idle_s, expired=expired)
    try:
        while True:
            try:
                item = await bounds.next(source)
            except StopAsyncIteration:
                return
            yield item
    finally:
        bounds.close()
        closer = getattr(source, "aclose", None)
        if closer is not None:
            await closer()


def _expired(why: str) -> ProviderTimeout:
    return ProviderTimeout(f"stopped: {why}")


async def _ticks(gaps: list[float], closed: list[bool]) -> AsyncIterator[int]:
    try:
        for number, gap in enumerate(gaps):
            await asyncio.sleep(gap)
            yield number
    finally:
        closed.append(True)


async def _read(source: AsyncIterator[int], **bounds: float | None) -> list[int]:
    total = bounds.pop("total_s")
    assert total is not None
    return [
        item
        async for item in within_deadlines(
            source, total_s=total, idle_s=bounds.get("idle_s"), expired=_expired
        )
    ]


async def test_a_stream_within_its_bounds_is_passed_on_whole(looptime: LoopTimeProxy) -> None:
    closed: list[bool] = []
    assert await _read(_ticks([0.0, 4.0, 9.0], closed), total_s=300, idle_s=10) == [0, 1, 2]
    assert closed == [True]
    assert looptime == 13


async def test_chunks_that_keep_coming_reset_the_idle_bound(looptime: LoopTimeProxy) -> None:
    closed: list[bool] = []
    # 10 gaps of 25 s under a 30-s idle bound: 250 s in all, past eight idle bounds.
    assert await _read(_ticks([25.0] * 10, closed), total_s=300, idle_s=30) == list(range(10))
    assert looptime == 250


async def test_a_silent_upstream_ends_at_the_idle_bound(looptime: LoopTimeProxy) -> None:
    closed: list[bool] = []
    seen: list[int] = []
    with pytest.raises(ProviderTimeout, match="no data for 30 s"):
        async for item in within_deadlines(
            _ticks([0.0, 5.0, 3600.0], closed), total_s=300, idle_s=30, expired=_expired
        ):
            seen.append(item)
    assert (seen, closed) == ([0, 1], [True])
    assert looptime == 5 + 30  # the last chunk's time plus the idle bound, not an hour


async def test_a_stream_that_keeps_talking_ends_at_the_total_deadline(
    looptime: LoopTimeProxy,
) -> None:
    closed: list[bool] = []
    with pytest.raises(ProviderTimeout, match="past the 120-second deadline"):
        await _read(_ticks([20.0] * 100, closed), total_s=120, idle_s=30)
    assert closed == [True]
    assert looptime == 120


async def test_a_timer_set_for_an_earlier_wait_rings_early_and_is_set_again(
    looptime: LoopTimeProxy,
) -> None:
    """One timer per stream: set for the first wait (due at 10 s), it stays through the
    second wait (begun at 4 s), rings early at 10 and is set again for 14, when the reader
    that has waited 10 s since its last chunk is cancelled as idle."""
    from hub.deadlines import Bounds

    bounds = Bounds(total_s=300, idle_s=10, expired=_expired)

    async def chunks() -> AsyncIterator[int]:
        await asyncio.sleep(4)  # the first chunk, after 4 s
        yield 1
        await asyncio.sleep(3600)
        yield 2

    source = chunks()
    assert await bounds.next(source) == 1
    with pytest.raises(ProviderTimeout) as raised:
        await bounds.next(source)
    assert str(raised.value) == "stopped: no data for 10 s"
    assert bounds.fired == "idle"
    assert looptime == 14
    bounds.close()
    await source.aclose()


async def test_time_the_reader_spends_between_chunks_is_not_idle_time(
    looptime: LoopTimeProxy,
) -> None:
    closed: list[bool] = []
    seen = []
    async for item in within_deadlines(
        _ticks([0.0] * 3, closed), total_s=300, idle_s=5, expired=_expired
    ):
        seen.append(item)
        await asyncio.sleep(60)  # the consumer is slow; the upstream is not
    assert seen == [0, 1, 2]
    assert looptime == 180


async def test_a_cancellation_from_outside_is_not_taken_for_a_timeout(
    looptime: LoopTimeProxy,
) -> None:
    closed: list[bool] = []
    task = asyncio.ensure_future(_read(_ticks([3600.0], closed), total_s=60, idle_s=None))
    await asyncio.sleep(10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed == [True]
    assert looptime == 10


async def test_the_sources_own_timeout_passes_through() -> None:
    async def failing() -> AsyncIterator[int]:
        yield 1
        raise TimeoutError("the transport's read timeout")

    with pytest.raises(TimeoutError, match="transport"):
        await _read(failing(), total_s=5, idle_s=1)


async def test_a_stream_read_on_from_another_task_is_bounded_there(
    looptime: LoopTimeProxy,
) -> None:
    closed: list[bool] = []
    bounded = within_deadlines(
        _ticks([0.0, 3600.0], closed), total_s=300, idle_s=30, expired=_expired
    )
    assert await anext(bounded) == 0
    with pytest.raises(ProviderTimeout, match="no data"):
        await asyncio.ensure_future(anext(bounded))
    await bounded.aclose()
    assert closed == [True]
    assert looptime == 30


async def test_bounds_within_another_keep_its_deadline_with_its_own_timeout(
    looptime: LoopTimeProxy,
) -> None:
    """An attempt's bounds within the request's: one wait per chunk stops at the earlier
    deadline, the request's (at 30 s, before the attempt's 60), with the request's timeout
    and `fired` "outer"; the attempt's idle bound (20 s) still counts between chunks."""
    request = Bounds(total_s=30, idle_s=None, expired=lambda why: ProviderTimeout(f"req: {why}"))
    attempt = Bounds(total_s=60, idle_s=20, expired=_expired)
    attempt.within(request)
    closed: list[bool] = []
    source = _ticks([10.0, 10.0, 3600.0], closed)
    assert [await attempt.next(source), await attempt.next(source)] == [0, 1]
    with pytest.raises(ProviderTimeout) as raised:
        await attempt.next(source)
    assert (str(raised.value), attempt.fired, looptime) == (
        "req: past the 30-second deadline",
        "outer",
        30,
    )
    attempt.close()
    request.close()
    await source.aclose()
    assert closed == [True]


async def test_within_after_a_wait_drops_a_timer_due_past_the_outer_deadline(
    looptime: LoopTimeProxy,
) -> None:
    """The attempt read its first chunk (its timer set for the idle bound, due at 50 s),
    then is bound within a request due at 30 s: that timer would ring only at 50, so it is
    dropped and the next wait sets one for 30, where the request's deadline ends it."""
    request = Bounds(total_s=30, idle_s=None, expired=lambda why: ProviderTimeout(f"req: {why}"))
    attempt = Bounds(total_s=60, idle_s=50, expired=_expired)
    closed: list[bool] = []
    source = _ticks([10.0, 3600.0], closed)
    assert await attempt.next(source) == 0
    attempt.within(request)
    with pytest.raises(ProviderTimeout) as raised:
        await attempt.next(source)
    assert (str(raised.value), attempt.fired, looptime) == (
        "req: past the 30-second deadline",
        "outer",
        30,
    )
    attempt.close()
    request.close()
    await source.aclose()
    assert closed == [True]


async def test_within_after_a_wait_keeps_a_timer_due_before_the_outer_deadline(
    looptime: LoopTimeProxy,
) -> None:
    """The attempt's timer, set at its first wait for the idle bound (due at 20 s), is due
    before the request's deadline (100 s): it stays, rings early at 20 (the first chunk came
    at 5) and is set again for 25, when the reader has waited 20 s since it: idle."""
    request = Bounds(total_s=100, idle_s=None, expired=lambda why: ProviderTimeout(f"req: {why}"))
    attempt = Bounds(total_s=300, idle_s=20, expired=_expired)
    closed: list[bool] = []
    source = _ticks([5.0, 3600.0], closed)
    assert await attempt.next(source) == 0
    attempt.within(request)
    with pytest.raises(ProviderTimeout) as raised:
        await attempt.next(source)
    assert (str(raised.value), attempt.fired, looptime) == ("stopped: no data for 20 s", "idle", 25)
    attempt.close()
    request.close()
    await source.aclose()
    assert closed == [True]
