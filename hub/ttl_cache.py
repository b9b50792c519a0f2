"""A small per-process cache with a time to live, for settings read on every request (rate
limits, a team's provider keys). Changes made in this process invalidate at once; changes
made by another process are seen within the TTL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from hub.clock import Clock

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    def __init__(self, clock: Clock, ttl_s: float, max_entries: int = 10_000) -> None:
        self._clock = clock
        self._ttl = ttl_s
        self._max = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        now = self._clock.monotonic()
        found = self._entries.get(key)
        if found is not None and found[0] > now:
            return found[1]
        value = await load()
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key] = (now + self._ttl, value)
        return value

    def invalidate(self, key: K | None = None) -> None:
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)
