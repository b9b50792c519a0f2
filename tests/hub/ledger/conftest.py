"""Set-ups the ledger's cache tests share. `statements` watches the module's own `running`
hub (each module starts the hub its tests need); `prefix`, for Redis, is in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.hubs import RunningHub
from tests.support.statements import Statements


@pytest.fixture
def statements(running: RunningHub) -> Iterator[Statements]:
    yield Statements(running.hub)
