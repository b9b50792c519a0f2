"""A small per-process cache with a time to live, for settings read on every request (rate
limits, a team's provider keys). Changes made in this process invalidate at once; changes
made by another process are seen within the TTL.

One load per key at a time: when an entry lapses under load, the requests arriving while it
is being read share that read instead of each queueing its own on the database (at
concurrency 16 that was 16 identical reads of every kind every TTL, behind the one SQLite
connection). A load that started before an invalidation is handed to its waiters but not
kept, so an invalidation is never undone by a read that began before it.
"""

from __future__ import annotations

import asyncio
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
        self._loading: dict[K, tuple[int, asyncio.Future[V]]] = {}
        self._generation = 0  # moves on every invalidation

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        found = self._entries.get(key)
        if found is not None and found[0] > self._clock.monotonic():
            return found[1]
        loading = self._loading.get(key)
        if loading is None or loading[0] != self._generation:
            loading = (self._generation, asyncio.ensure_future(load()))
            self._loading[key] = loading
            loading[1].add_done_callback(lambda done: self._loaded(key, loading, done))
        # Shielded: a waiter that is cancelled does not cancel the others' read.
        return await asyncio.shield(loading[1])

    def _loaded(
        self, key: K, loading: tuple[int, asyncio.Future[V]], done: asyncio.Future[V]
    ) -> None:
        if self._loading.get(key) is loading:
            del self._loading[key]
        if done.cancelled() or done.exception() is not None or loading[0] != self._generation:
            return
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key] = (self._clock.monotonic() + self._ttl, done.result())

    def invalidate(self, key: K | None = None) -> None:
        self._generation += 1
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)
