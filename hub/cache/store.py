"""Where cached answers live: this process's memory (LRU, bounded) or Redis (shared, TTL).

An entry is a whole, finished answer: its text, how it ended, the usage the provider reported
and what it cost, and the deployment that produced it (named again in X-UniLLM-Deployment).
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from hub.clock import Clock
from hub.model import Usage
from hub.redis_lazy import redis_client, redis_errors

log = logging.getLogger("hub.cache")


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    text: str
    finish_reason: str
    usage: Usage
    deployment: str
    cost_micros: int  # what the provider call cost: what a hit saves
    request_id: str  # the request that produced it

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> CachedAnswer:
        data: dict[str, Any] = json.loads(raw)
        return cls(**{**data, "usage": Usage(**data["usage"])})


class ResponseCache(Protocol):
    async def get(self, key: str) -> CachedAnswer | None: ...
    async def put(self, key: str, answer: CachedAnswer, *, ttl_s: int) -> None: ...
    async def close(self) -> None: ...


class MemoryResponseCache:
    def __init__(self, clock: Clock, *, max_entries: int) -> None:
        self._clock = clock
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[float, CachedAnswer]] = OrderedDict()

    async def get(self, key: str) -> CachedAnswer | None:
        found = self._entries.get(key)
        if found is None:
            return None
        expires, answer = found
        if self._clock.monotonic() >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return answer

    async def put(self, key: str, answer: CachedAnswer, *, ttl_s: int) -> None:
        self._entries[key] = (self._clock.monotonic() + ttl_s, answer)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    async def close(self) -> None:
        self._entries.clear()


class RedisResponseCache:
    """Shared by every process; a Redis outage makes the cache miss, never the request fail."""

    def __init__(self, *, redis_url: str, key_prefix: str) -> None:
        self._redis: Any = redis_client(redis_url)
        self._prefix = key_prefix.rstrip(":") + ":cache:"

    async def get(self, key: str) -> CachedAnswer | None:
        try:
            raw = await self._redis.get(self._prefix + key)
        except redis_errors() as exc:
            log.warning("response cache unreachable, treating as a miss: %s", exc)
            return None
        if raw is None:
            return None
        try:
            return CachedAnswer.from_json(raw)
        except (ValueError, TypeError, KeyError):
            log.warning("dropped an unreadable cache entry")
            return None

    async def put(self, key: str, answer: CachedAnswer, *, ttl_s: int) -> None:
        try:
            await self._redis.set(self._prefix + key, answer.to_json(), ex=ttl_s)
        except redis_errors() as exc:
            log.warning("could not store an answer in the response cache: %s", exc)

    async def close(self) -> None:
        await self._redis.aclose()
