"""hub/deadlines.py: one timer per stream, for the idle bound and the total deadline, on the
event loop's real clock (tiny bounds, so no test waits long)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hub.deadlines import within_deadlines
from hub.errors import ProviderTimeout


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


async def test_a_stream_within_its_bounds_is_passed_on_whole() -> None:
    closed: list[bool] = []
    assert await _read(_ticks([0.0, 0.01, 0.01], closed), total_s=5, idle_s=1) == [0, 1, 2]
    assert closed == [True]


async def test_chunks_that_keep_coming_reset_the_idle_bound() -> None:
    closed: list[bool] = []
    # 10 gaps of 30 ms under a 100-ms idle bound: 300 ms in all, past one idle bound.
    assert await _read(_ticks([0.03] * 10, closed), total_s=5, idle_s=0.1) == list(range(10))


async def test_a_silent_upstream_ends_at_the_idle_bound() -> None:
    closed: list[bool] = []
    seen: list[int] = []
    with pytest.raises(ProviderTimeout, match="no data for 0.05 s"):
        async for item in within_deadlines(
            _ticks([0.0, 0.01, 10.0], closed), total_s=5, idle_s=0.05, expired=_expired
        ):
            seen.append(item)
    assert (seen, closed) == ([0, 1], [True])


async def test_a_stream_that_keeps_talking_ends_at_the_total_deadline() -> None:
    closed: list[bool] = []
    with pytest.raises(ProviderTimeout, match="past the 0.15-second deadline"):
        await _read(_ticks([0.02] * 100, closed), total_s=0.15, idle_s=1)
    assert closed == [True]


async def test_time_the_reader_spends_between_chunks_is_not_idle_time() -> None:
    closed: list[bool] = []
    seen = []
    async for item in within_deadlines(
        _ticks([0.0] * 3, closed), total_s=5, idle_s=0.05, expired=_expired
    ):
        seen.append(item)
        await asyncio.sleep(0.1)  # the consumer is slow; the upstream is not
    assert seen == [0, 1, 2]


async def test_a_cancellation_from_outside_is_not_taken_for_a_timeout() -> None:
    closed: list[bool] = []
    task = asyncio.ensure_future(_read(_ticks([10.0], closed), total_s=0.05, idle_s=None))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed == [True]


async def test_the_sources_own_timeout_passes_through() -> None:
    async def failing() -> AsyncIterator[int]:
        yield 1
        raise TimeoutError("the transport's read timeout")

    with pytest.raises(TimeoutError, match="transport"):
        await _read(failing(), total_s=5, idle_s=1)


async def test_a_stream_read_on_from_another_task_is_bounded_there() -> None:
    closed: list[bool] = []
    bounded = within_deadlines(
        _ticks([0.0, 10.0], closed), total_s=5, idle_s=0.05, expired=_expired
    )
    assert await anext(bounded) == 0
    with pytest.raises(ProviderTimeout, match="no data"):
        await asyncio.ensure_future(anext(bounded))
    await bounded.aclose()
    assert closed == [True]
