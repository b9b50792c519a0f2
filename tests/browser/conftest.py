"""Browser tests: Playwright for Python driving the system Chromium (`HUB_TEST_CHROMIUM`,
default /usr/bin/chromium; nothing is downloaded). One browser per module."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright

CHROMIUM = os.environ.get("HUB_TEST_CHROMIUM", "/usr/bin/chromium")
OUTPUT = Path(os.environ.get("HUB_TEST_OUTPUT", Path(__file__).parents[2] / "test-output"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("HUB_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(f"no Chromium at {CHROMIUM} (set HUB_TEST_CHROMIUM)")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(scope="module")
def output_dir() -> Path:
    """Where screenshots go (the test output folder; `HUB_TEST_OUTPUT` overrides)."""
    folder = OUTPUT / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
