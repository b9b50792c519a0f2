"""Set-ups the ledger's cache tests share. `statements` watches the module's own `running`
hub (each module starts the hub its tests need)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support.hubs import RunningHub
from tests.support.services import delete_redis_prefix, redis_prefix
from tests.support.statements import Statements


@pytest.fixture
def statements(running: RunningHub) -> Iterator[Statements]:
    yield Statements(running.hub)


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A Redis key prefix of this test's own, deleted afterwards."""
    value = await redis_prefix()
    try:
        yield value
    finally:
        await delete_redis_prefix(value)
