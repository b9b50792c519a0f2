"""The per-request settings cache: reuses within the TTL, reloads after, forgets on demand."""

from __future__ import annotations

import asyncio

from hub.clock import FakeClock
from hub.ttl_cache import TTLCache


async def test_reload_after_ttl_and_on_invalidate() -> None:
    clock = FakeClock()
    cache: TTLCache[str, int] = TTLCache(clock, ttl_s=5.0)
    loads = []

    async def load() -> int:
        loads.append(1)
        return len(loads)

    assert await cache.get("a", load) == 1
    assert await cache.get("a", load) == 1
    clock.advance(10.1)  # lapsed more than a TTL ago: read again, waited for
    assert await cache.get("a", load) == 2
    cache.invalidate("a")
    assert await cache.get("a", load) == 3
    cache.invalidate()
    assert await cache.get("a", load) == 4


async def test_requests_arriving_during_a_load_share_it() -> None:
    clock = FakeClock()
    cache: TTLCache[str, int] = TTLCache(clock, ttl_s=5.0)
    release = asyncio.Event()
    loads = []

    async def load() -> int:
        loads.append(1)
        await release.wait()
        return len(loads)

    waiting = [asyncio.ensure_future(cache.get("a", load)) for _ in range(16)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [1] * 16
    assert (len(loads), await cache.get("a", load)) == (1, 1)


async def test_a_load_begun_before_an_invalidation_is_not_kept() -> None:
    clock = FakeClock()
    cache: TTLCache[str, int] = TTLCache(clock, ttl_s=5.0)
    release = asyncio.Event()
    loads = []

    async def load() -> int:
        loads.append(1)
        number = len(loads)  # the value as of when this read began
        await release.wait()
        return number

    early = asyncio.ensure_future(cache.get("a", load))
    await asyncio.sleep(0)
    cache.invalidate("a")
    late = asyncio.ensure_future(cache.get("a", load))  # after the change: a read of its own
    await asyncio.sleep(0)
    release.set()
    assert (await early, await late) == (1, 2)
    assert await cache.get("a", load) == 2


async def test_a_failed_load_reaches_every_waiter_and_is_not_kept() -> None:
    clock = FakeClock()
    cache: TTLCache[str, int] = TTLCache(clock, ttl_s=5.0)
    loads = []

    async def load() -> int:
        loads.append(1)
        await asyncio.sleep(0)
        if len(loads) == 1:
            raise RuntimeError("database down")
        return 7

    waiting = [asyncio.ensure_future(cache.get("a", load)) for _ in range(3)]
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert [str(o) for o in outcomes] == ["database down"] * 3
    assert await cache.get("a", load) == 7


async def test_a_cancelled_waiter_leaves_the_load_to_the_others() -> None:
    clock = FakeClock()
    cache: TTLCache[str, int] = TTLCache(clock, ttl_s=5.0)
    release = asyncio.Event()

    async def load() -> int:
        await release.wait()
        return 3

    first = asyncio.ensure_future(cache.get("a", load))
    second = asyncio.ensure_future(cache.get("a", load))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    assert await second == 3
    assert first.cancelled()


async def test_a_lately_lapsed_entry_answers_while_it_is_read_again() -> None:
    clock = FakeClock()
    cache: TTLCache[str, int] = TTLCache(clock, ttl_s=5.0)
    release = asyncio.Event()
    loads = []

    async def load() -> int:
        loads.append(1)
        if len(loads) > 1:
            await release.wait()
        return len(loads)

    assert await cache.get("a", load) == 1
    clock.advance(5.1)
    # Lapsed less than a TTL ago: the old value at once, and one read in the background
    # however many ask meanwhile.
    assert [await cache.get("a", load) for _ in range(3)] == [1, 1, 1]
    refresh = cache.refreshing("a")
    assert refresh is not None and not refresh.done()
    release.set()
    assert await refresh == 2
    assert (await cache.get("a", load), len(loads)) == (2, 2)


async def test_an_invalidation_during_a_background_read_is_not_undone() -> None:
    clock = FakeClock()
    cache: TTLCache[str, int] = TTLCache(clock, ttl_s=5.0)
    release = asyncio.Event()
    loads = []

    async def load() -> int:
        loads.append(1)
        number = len(loads)
        if number == 2:
            await release.wait()
        return number

    assert await cache.get("a", load) == 1
    clock.advance(5.1)
    assert await cache.get("a", load) == 1  # the background read (2) begins
    stale = cache.refreshing("a")
    assert stale is not None
    cache.invalidate("a")
    assert await cache.get("a", load) == 3  # forgotten: a read of its own, waited for
    release.set()
    assert await stale == 2
    assert await cache.get("a", load) == 3  # the read begun before the change is not kept
