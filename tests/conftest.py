"""Shared fixtures: databases (SQLite per test or per module; PostgreSQL on demand) and the
fake servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.logs import LogCapture, capture_logs
from tests.support.services import (
    create_postgres_database,
    delete_redis_prefix,
    drop_postgres_database,
    redis_prefix,
)

pytest_plugins = ["tests.fakes.fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    # Marks the main thread's loop as set (to none): asyncio's get_event_loop would otherwise
    # make a loop the first time it is asked, and pytest-asyncio asks while it swaps loops in
    # (1.3: before an async test; 1.4-1.5: before an async fixture), keeps that loop as "the
    # old one" and never closes it. Once a later asyncio.run or Runner unsets it, the garbage
    # collector closes it with a ResourceWarning that filterwarnings = error turns into a
    # failure of whichever test is running then (CI: test_histograms, test_downgrade_live).
    asyncio.set_event_loop(None)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/hub.db"


@pytest.fixture(scope="module")
def module_sqlite_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A SQLite file for a module's tests to share (a hub served once per module)."""
    folder = tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2])
    return f"sqlite+aiosqlite:///{folder}/hub.db"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    url, name = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Runs a test on both backends."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/hub.db"
        return
    url, name = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(name)


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """Every log record of the test, formatted as the hub formats them."""
    with capture_logs() as handler:
        yield handler


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A Redis key prefix of the test's own (hubs, signals, counters), deleted afterwards."""
    value = await redis_prefix()
    try:
        yield value
    finally:
        await delete_redis_prefix(value)
