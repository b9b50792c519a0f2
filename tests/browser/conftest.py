"""Browser tests: Playwright for Python driving the system Chromium (`HUB_TEST_CHROMIUM`,
default /usr/bin/chromium; nothing is downloaded). One browser per module.

The helpers the page tests share live here: a served dashboard hub per module (`dash`),
signing in, a screenshot that also checks nothing is wider than the window, axe-core's
serious and critical violations, and the keyboard walk that checks every control is reached
with a visible focus."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.connectors.dashboard.support import DashboardHub, dashboard_hub

CHROMIUM = os.environ.get("HUB_TEST_CHROMIUM", "/usr/bin/chromium")
OUTPUT = Path(os.environ.get("HUB_TEST_OUTPUT", Path(__file__).parents[2] / "test-output"))
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 360)
SCHEMES = ("light", "dark")
# Every width with every scheme, one test each (a single test walking them all could pass
# the per-test timeout on a loaded machine).
LOOKS = [pytest.param(width, scheme, id=f"{width}-{scheme}") for scheme in SCHEMES
         for width in WIDTHS]  # fmt: skip

CONTROLS = (
    "[...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, "
    'textarea, [tabindex="0"], summary\')].map(e => e.outerHTML.slice(0, 80))'
)
FOCUSED = """() => { const e = document.activeElement; const s = getComputedStyle(e);
   return [e.outerHTML.slice(0, 80), s.outlineStyle, s.outlineWidth]; }"""


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


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def dash(module_sqlite_url: str) -> AsyncIterator[DashboardHub]:
    """A served dashboard hub per module, on a SQLite file of its own."""
    async with dashboard_hub(module_sqlite_url) as hub:
        yield hub


@pytest.fixture(scope="module")
def output_dir() -> Path:
    """Where screenshots go (the test output folder; `HUB_TEST_OUTPUT` overrides)."""
    folder = OUTPUT / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def signed_in(
    browser: Browser, dash: DashboardHub, key: str, **options: Any
) -> tuple[BrowserContext, Page]:
    """A new context signed in with `key` through the sign-in form (the key field is found by
    its id, so this works in whatever language the context's browser asks for)."""
    context = await browser.new_context(base_url=dash.running.base_url, **options)
    page = await context.new_page()
    await page.goto("/")
    assert page.url.endswith("/login")
    await page.locator("#key").fill(key)
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{dash.running.base_url}/")
    return context, page


async def shoot(page: Page, output_dir: Path, name: str) -> None:
    """A full-page screenshot `name`.png, and nothing wider than the window (tables scroll
    inside their own region; nothing else does)."""
    shot = output_dir / f"{name}.png"
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, name


async def axe_violations(page: Page) -> list[tuple[str, str, list[Any]]]:
    """axe-core's serious and critical violations on the page as it is (the context needs
    `bypass_csp=True`: the pages forbid scripts)."""
    await page.add_script_tag(path=str(AXE))
    # Only violations are read: axe skips collecting the passing nodes (faster).
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def keyboard_walk(page: Page, *, unfold: bool = False) -> tuple[list[str], list[str]]:
    """Tab through the page: every focused element must show its focus; returns the page's
    controls and what the keyboard reached. With `unfold`, Enter opens each <summary> reached
    (the disclosure's controls then count too)."""
    controls: list[str] = await page.evaluate(CONTROLS)
    reached: list[str] = []
    opened: set[str] = set()
    for _ in range(len(controls) * 3 + 10):  # a date-time input takes a Tab per part
        await page.keyboard.press("Tab")
        html, style, width = await page.evaluate(FOCUSED)
        if html.startswith("<body"):
            continue
        assert style != "none" and width != "0px", html  # focus is visible
        reached.append(html)
        if unfold and html.startswith("<summary") and html not in opened:
            opened.add(html)
            await page.keyboard.press("Enter")
    return controls, reached
