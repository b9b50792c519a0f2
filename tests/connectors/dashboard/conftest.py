"""The fixtures the dashboard tests share: a served dashboard hub on a fresh SQLite file per
test (`dash`), and one per module with an owner key for the team-administration pages (`h`).
A module that seeds more overrides the fixture of the same name and asks for this one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.connectors.dashboard.admin_support import AdminHub, admin_hub
from tests.connectors.dashboard.support import DashboardHub, dashboard_hub


@pytest.fixture
async def dash(sqlite_url: str) -> AsyncIterator[DashboardHub]:
    async with dashboard_hub(sqlite_url) as hub:
        yield hub


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def h(module_sqlite_url: str) -> AsyncIterator[AdminHub]:
    async with admin_hub(module_sqlite_url) as hub:
        yield hub
