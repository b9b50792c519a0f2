"""redis-py, imported on first use. Importing it takes about a second (it brings in
OpenTelemetry's metrics SDK), paid by every `hub` command and every start, while a hub
without `[redis] url` (the demo, `make run`, most CLI commands) never talks to Redis."""

from __future__ import annotations

from typing import Any


def redis_client(url: str) -> Any:
    """An asyncio client with decoded responses; no I/O until first used."""
    import redis.asyncio as redis

    return redis.from_url(url, decode_responses=True)


def redis_errors() -> tuple[type[BaseException], ...]:
    """What a Redis outage raises, for `except redis_errors():` (evaluated only when an
    exception is being matched, by which time a client, and so redis-py, exists)."""
    from redis.exceptions import RedisError

    return (RedisError, OSError)
