"""Rate-limit counters (#14.3): a sliding-window counter for requests, a fixed window for
tokens, O(1) in memory on the hub clock; the Redis counters agree on a burst."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.clock import FakeClock
from hub.rate_counters import MemoryCounters, RedisCounters
from tests.support.services import REDIS_URL

MINUTE = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)  # the start of a window


def at(seconds: float) -> FakeClock:
    clock = FakeClock(MINUTE)
    clock.advance(seconds)
    return clock


async def burst(counters: MemoryCounters | RedisCounters, n: int, limit: int) -> int:
    return sum([await counters.hit_requests("key/1", limit) for _ in range(n)])


async def test_a_burst_is_counted_exactly() -> None:
    counters = MemoryCounters(at(30))
    assert await burst(counters, 15, 10) == 10
    assert await counters.hit_requests("key/2", 10)  # another scope has its own count


async def test_the_previous_minute_counts_in_proportion_at_the_edge() -> None:
    clock = at(59)
    counters = MemoryCounters(clock)
    assert await burst(counters, 10, 10) == 10
    clock.advance(2)  # 1 s into the next window: floor(10 × 59/60) = 9 still count
    assert await counters.hit_requests("key/1", 10)
    assert not await counters.hit_requests("key/1", 10)
    wait = await counters.requests_wait("key/1", 10)
    assert wait == pytest.approx(5.0)  # then floor(10 × (59 − 5)/60) drops below 9
    clock.advance(wait + 0.01)
    assert await counters.hit_requests("key/1", 10)
    assert not await counters.hit_requests("key/1", 10)
    clock.advance(120)  # two windows on: nothing counts any more
    assert await burst(counters, 10, 10) == 10


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.integers(min_value=1, max_value=50),
    st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), min_size=1, max_size=60),
)
async def test_never_more_than_the_limit_in_a_window_and_the_wait_is_bounded(
    limit: int, gaps: list[float]
) -> None:
    clock = at(0)
    counters = MemoryCounters(clock)
    admitted: list[float] = []
    for gap in gaps:
        clock.advance(gap)
        now = clock.now().timestamp()
        if await counters.hit_requests("t/1", limit):
            admitted.append(now)
        else:
            wait = await counters.requests_wait("t/1", limit)
            assert 0 < wait <= 120
    for start in admitted:  # a fixed window never holds more than the limit
        window = int(start // 60)
        assert sum(1 for t in admitted if int(t // 60) == window) <= limit


async def test_tokens_are_a_fixed_window_charged_after_the_request() -> None:
    clock = at(10)
    counters = MemoryCounters(clock)
    assert await counters.tokens_left("team/1", 100)
    await counters.charge_tokens("team/1", 100, 150)  # the whole charge, even past the limit
    assert not await counters.tokens_left("team/1", 100)
    assert await counters.tokens_wait("team/1", 100) == pytest.approx(50)
    clock.advance(50)
    assert await counters.tokens_left("team/1", 100)


async def test_memory_does_not_grow_with_the_limit_or_the_traffic() -> None:
    counters = MemoryCounters(at(0))
    assert await burst(counters, 5000, 1_000_000) == 5000
    assert len(counters._sliding) == 1  # noqa: SLF001 - two integers per scope, not a list


@pytest.mark.redis
async def test_redis_counts_a_burst_the_same(prefix: str) -> None:
    counters = RedisCounters(REDIS_URL, prefix)
    try:
        assert await counters.check()
        assert await burst(counters, 15, 10) == 10
        assert 0 < await counters.requests_wait("key/1", 10) <= 120
        await counters.charge_tokens("team/1", 100, 150)
        assert not await counters.tokens_left("team/1", 100)
    finally:
        await counters.close()
