"""A small per-process cache with a time to live, for settings read on every request (rate
limits, a team's provider keys). Changes made in this process invalidate at once; changes
made by another process are seen within the TTL.

One load per key at a time: when an entry lapses under load, the requests arriving while it
is being read share that read instead of each queueing its own on the database (at
concurrency 16 that was 16 identical reads of every kind every TTL, behind the one SQLite
connection). A load that started before an invalidation is handed to its waiters but not
kept, so an invalidation is never undone by a read that began before it.

An entry that lapsed less than a TTL ago is still answered with while it is read again in
the background (one read at a time): a request never waits on the database for a lapse,
only for a key not read yet, forgotten (`invalidate`) or lapsed longer ago (at concurrency 1
each lapse was a database read of 1-9 ms in one request in a few hundred, the p99). A change
made in another process is therefore seen within the TTL plus one read, at most two TTLs.
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
        if found is not None:
            now = self._clock.monotonic()
            if found[0] > now:
                return found[1]
            if found[0] + self._ttl > now:  # lapsed lately: this one, and a read begins
                self._load(key, load)
                return found[1]
        # Shielded: a waiter that is cancelled does not cancel the others' read.
        return await asyncio.shield(self._load(key, load))

    def refreshing(self, key: K) -> asyncio.Future[V] | None:
        """The read of `key` under way, if one is (tests wait on a background one)."""
        loading = self._loading.get(key)
        return loading[1] if loading is not None else None

    def _load(self, key: K, load: Callable[[], Awaitable[V]]) -> asyncio.Future[V]:
        """The read of `key` under way for the current generation, begun if none is."""
        loading = self._loading.get(key)
        if loading is None or loading[0] != self._generation:
            loading = (self._generation, asyncio.ensure_future(load()))
            self._loading[key] = loading
            loading[1].add_done_callback(lambda done: self._loaded(key, loading, done))
        return loading[1]

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
