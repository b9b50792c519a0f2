"""The counters behind rate limits, O(1) in time and memory whatever the limit (#14.3).

Requests per minute: a sliding-window counter. The minute is cut into fixed windows; a
request is admitted while `previous × (share of the previous window still inside the last
60 s) + current` leaves room for it. A burst is counted exactly (the eleventh request of a
burst under 10/min is refused); at a window's edge the previous window is assumed to have
been spread evenly, which is what makes it two numbers instead of a timestamp per request.
Tokens per minute: a fixed window that counts what requests used, checked before a request
and charged after it (as before).

`MemoryCounters` keeps two integers per scope, on the hub clock, with no lock, task or
thread: written by hand because `limits`' memory storage schedules an expiry task on every
hit and moves moving-window expiry to a thread. `RedisCounters` is `limits`' Redis storage
(its sliding-window Lua script: one round trip per limit) so several processes share one
count.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter

from hub.clock import Clock

WINDOW_S = 60.0


class Counters(Protocol):
    async def hit_requests(self, key: str, limit: int) -> bool:
        """Count one request if the sliding minute has room for it."""
        ...

    async def requests_wait(self, key: str, limit: int) -> float:
        """Seconds until one more request would be admitted."""
        ...

    async def tokens_left(self, key: str, limit: int) -> bool:
        """True while this minute's tokens are under `limit`."""
        ...

    async def charge_tokens(self, key: str, limit: int, tokens: int) -> None: ...

    async def tokens_wait(self, key: str, limit: int) -> float: ...

    async def check(self) -> bool:
        """The store answers."""
        ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class _Sliding:
    window: int  # index of the current window (clock seconds // 60)
    current: int
    previous: int


@dataclass(slots=True)
class _Fixed:
    window: int
    used: int


class MemoryCounters:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._sliding: dict[str, _Sliding] = {}
        self._fixed: dict[str, _Fixed] = {}

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _roll(self, key: str, now: float) -> _Sliding:
        window = int(now // WINDOW_S)
        state = self._sliding.get(key)
        if state is None:
            state = self._sliding[key] = _Sliding(window, 0, 0)
        elif state.window != window:
            state.previous = state.current if state.window == window - 1 else 0
            state.current, state.window = 0, window
        return state

    @staticmethod
    def _weight(now: float) -> float:
        """The share of the previous window still inside the last 60 seconds."""
        return 1.0 - (now % WINDOW_S) / WINDOW_S

    async def hit_requests(self, key: str, limit: int) -> bool:
        now = self._now()
        state = self._roll(key, now)
        if math.floor(state.previous * self._weight(now)) + state.current + 1 > limit:
            return False
        state.current += 1
        return True

    async def requests_wait(self, key: str, limit: int) -> float:
        now = self._now()
        state = self._roll(key, now)
        left_in_window = WINDOW_S - now % WINDOW_S
        room = limit - 1 - state.current  # what the previous window's share must fall to
        if room >= 0 and state.previous:
            # previous × (left − w) / 60 < room + 1, within this window
            wait = left_in_window - (room + 1) * WINDOW_S / state.previous
            if wait <= left_in_window:
                return max(0.0, wait)
        # Next window: this window's count becomes the previous one, its weight falling from
        # 1: floor(current × weight) must drop below the limit.
        return left_in_window + WINDOW_S * max(0.0, 1 - limit / max(state.current, 1))

    def _fixed_state(self, key: str, now: float) -> _Fixed:
        window = int(now // WINDOW_S)
        state = self._fixed.get(key)
        if state is None or state.window != window:
            state = self._fixed[key] = _Fixed(window, 0)
        return state

    async def tokens_left(self, key: str, limit: int) -> bool:
        return self._fixed_state(key, self._now()).used < limit

    async def charge_tokens(self, key: str, limit: int, tokens: int) -> None:
        self._fixed_state(key, self._now()).used += tokens

    async def tokens_wait(self, key: str, limit: int) -> float:
        return WINDOW_S - self._now() % WINDOW_S

    async def check(self) -> bool:
        return True

    async def close(self) -> None:
        return None


class RedisCounters:
    """Shared through Redis, in `limits`' key layout (`<prefix>...`)."""

    def __init__(self, redis_url: str, key_prefix: str) -> None:
        scheme, _, rest = redis_url.partition("://")
        self._storage = RedisStorage(
            f"async+{scheme}://{rest}", implementation="redispy", key_prefix=key_prefix
        )
        self._requests = SlidingWindowCounterRateLimiter(self._storage)
        self._tokens = FixedWindowRateLimiter(self._storage)

    async def hit_requests(self, key: str, limit: int) -> bool:
        return await self._requests.hit(RateLimitItemPerMinute(limit), "rpm", key)

    async def requests_wait(self, key: str, limit: int) -> float:
        stats = await self._requests.get_window_stats(RateLimitItemPerMinute(limit), "rpm", key)
        return _until(stats.reset_time)

    async def tokens_left(self, key: str, limit: int) -> bool:
        return await self._tokens.test(RateLimitItemPerMinute(limit), "tpm", key)

    async def charge_tokens(self, key: str, limit: int, tokens: int) -> None:
        # A fixed window counts the whole charge even past the limit: the next request is
        # then refused until the window turns over.
        await self._tokens.hit(RateLimitItemPerMinute(limit), "tpm", key, cost=tokens)

    async def tokens_wait(self, key: str, limit: int) -> float:
        stats = await self._tokens.get_window_stats(RateLimitItemPerMinute(limit), "tpm", key)
        return _until(stats.reset_time)

    async def check(self) -> bool:
        return bool(await self._storage.check())

    async def close(self) -> None:
        # limits has no close: its bridge holds the redis-py client.
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()


def _until(reset_time: float) -> float:
    # `limits` keeps its windows in wall-clock epoch seconds.
    return max(0.0, reset_time - time.time())


def build_counters(redis_url: str, key_prefix: str, clock: Clock) -> Counters:
    if redis_url:
        return RedisCounters(redis_url, key_prefix)
    return MemoryCounters(clock)
