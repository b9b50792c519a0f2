"""Real PostgreSQL and Redis for the tests that need them.

Each test run gets its own PostgreSQL database and Redis key prefix, removed afterwards.
With HUB_TEST_REQUIRE_SERVICES=1 (CI), a missing service fails those tests instead of
skipping them.
"""

from __future__ import annotations

import os
import secrets

import pytest

REQUIRE = os.environ.get("HUB_TEST_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_TAG = secrets.token_hex(4)


def unavailable(service: str, why: str) -> None:
    message = f"{service} is not reachable ({why})"
    if REQUIRE:
        pytest.fail(message + "; HUB_TEST_REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(message)


async def create_postgres_database() -> tuple[str, str]:
    """Create a fresh database; returns (async url for the hub, database name)."""
    import asyncpg

    name = f"hub_test_{RUN_TAG}_{secrets.token_hex(3)}"
    try:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        unavailable("PostgreSQL", str(exc))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = POSTGRES_URL.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1), name


async def drop_postgres_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def redis_prefix() -> str:
    """A key prefix unique to this test; checks Redis is reachable."""
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, redis.RedisError) as exc:
        unavailable("Redis", str(exc))
    finally:
        await client.aclose()
    return f"hubtest:{RUN_TAG}:{secrets.token_hex(3)}:"


async def delete_redis_prefix(prefix: str) -> None:
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
