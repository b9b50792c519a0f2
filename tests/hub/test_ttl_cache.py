"""The per-request settings cache: reuses within the TTL, reloads after, forgets on demand."""

from __future__ import annotations

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
    clock.advance(5.1)
    assert await cache.get("a", load) == 2
    cache.invalidate("a")
    assert await cache.get("a", load) == 3
    cache.invalidate()
    assert await cache.get("a", load) == 4
