"""The property tests' hub: started on the test's database (SQLite or PostgreSQL) with no
providers, since they drive the ledger's services directly."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.hubs import RunningHub, start_hub


@pytest.fixture
async def running(database_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub({}, database_url=database_url)
    try:
        yield hub
    finally:
        await hub.close()
