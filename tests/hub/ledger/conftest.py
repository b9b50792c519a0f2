"""Set-ups the ledger's cache tests share. `statements` watches the module's own `running`
hub (each module starts the hub its tests need); `prefix`, for Redis, is in tests/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from hub.service import Hub
from tests.support.hubs import RunningHub, settings_from, start_hub
from tests.support.services import REDIS_URL
from tests.support.statements import Statements
from tests.support.two_hubs import TwoHubs


@pytest.fixture
def statements(running: RunningHub) -> Iterator[Statements]:
    yield Statements(running.hub)


@pytest.fixture
async def two_hubs(
    sqlite_url: str, prefix: str
) -> AsyncIterator[Callable[..., Awaitable[TwoHubs]]]:
    """Start two hubs of `config` sharing this test's database and Redis prefix (start_hub's
    keyword arguments set up the first); both are closed afterwards."""
    started: list[RunningHub | Hub] = []

    async def start(config: dict[str, Any], **kwargs: Any) -> TwoHubs:
        shared = {**config, "redis": {"url": REDIS_URL, "key_prefix": prefix}}
        first = await start_hub(shared, database_url=sqlite_url, **kwargs)
        started.append(first)
        second = Hub.open(settings_from(shared, database_url=sqlite_url), clock=first.clock)
        started.append(second)
        await first.hub.start()
        await second.start()
        return TwoHubs(first, second)

    try:
        yield start
    finally:
        for hub in reversed(started):
            await hub.close()
