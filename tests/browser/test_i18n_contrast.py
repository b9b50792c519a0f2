"""The dashboard in German and in the high-contrast theme, in Chromium: the browser's language
picks German and the footer's links switch it; the theme is chosen with the header's form;
screenshots of the overview and the explorer at 1280 and 360 px in each (nothing wider than
the window, German's longer words too), and axe-core finding no serious or critical
violation in high contrast (in German as well), where the keyboard reaches every control with
a visible focus. Signing in, screenshots and axe are tests/browser/conftest.py's helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import WIDTHS, axe_violations, keyboard_walk, shoot, signed_in
from tests.connectors.dashboard.support import OPERATOR_KEY, DashboardHub

pytestmark = pytest.mark.asyncio(loop_scope="module")
PAGES = {
    "overview": "/",
    "usage": "/usage?group_by=model,day&from=2026-10-31&to=2026-11-20&tz=Europe/Berlin",
}


@pytest.mark.parametrize("width", WIDTHS)
async def test_german_from_the_browser_and_the_switch_with_screenshots(
    browser: Browser, dash: DashboardHub, output_dir: Path, width: int
) -> None:
    context, page = await signed_in(
        browser, dash, OPERATOR_KEY, locale="de-DE", viewport={"width": width, "height": 900}
    )
    try:
        # The browser asks for German (Accept-Language: de-DE): the pages are German.
        assert await page.locator("html").get_attribute("lang") == "de"
        await expect(page.get_by_role("heading", level=1)).to_have_text("Übersicht November 2026")
        await expect(page.get_by_role("navigation", name="Sprache")).to_be_visible()
        for name, path in PAGES.items():
            await page.goto(path)
            await shoot(page, output_dir, f"{name}-{width}-de")
        usage = page.locator("#usage-table")
        await expect(usage.locator("thead")).to_contain_text("Anfragen")
        await expect(usage.locator("tfoot")).to_contain_text("Gesamt")
        cost = await page.locator('[data-total="cost"]').inner_text()
        assert cost.endswith("\xa0$") and "," in cost  # German money: 0,08 $
        # The footer's link switches to English and comes back to the same explorer view.
        await page.get_by_role("link", name="English").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Usage")
        assert await page.locator("html").get_attribute("lang") == "en"
        assert page.url == dash.running.base_url + PAGES["usage"]  # the same view, in English
        await page.get_by_role("link", name="Deutsch").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Nutzung")
    finally:
        await context.close()


@pytest.mark.parametrize("width", WIDTHS)
async def test_high_contrast_screenshots_and_axe(
    browser: Browser, dash: DashboardHub, output_dir: Path, width: int
) -> None:
    # The pages forbid scripts (CSP); the test's own context may inject axe.
    context, page = await signed_in(
        browser, dash, OPERATOR_KEY, bypass_csp=True, viewport={"width": width, "height": 900}
    )
    try:
        # Chosen with the header's theme form, by keyboard.
        await page.get_by_label("Theme").select_option("contrast")
        await page.get_by_role("button", name="Apply").press("Enter")
        await expect(page.locator("html")).to_have_attribute("data-theme", "contrast")
        background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(0, 0, 0)"
        for name, path in PAGES.items():
            await page.goto(path)
            await shoot(page, output_dir, f"{name}-{width}-contrast")
            bad = await axe_violations(page)
            assert bad == [], (name, width, bad)
        # Every control reached by keyboard, its focus visible against black.
        controls, reached = await keyboard_walk(page, unfold=True)
        assert set(controls) <= set(reached)
        # German in high contrast: the same checks hold for the translated pages.
        await page.get_by_role("link", name="Deutsch").click()
        for name, path in PAGES.items():
            await page.goto(path)
            assert await page.locator("html").get_attribute("lang") == "de"
            await shoot(page, output_dir, f"{name}-{width}-contrast-de")
            bad = await axe_violations(page)
            assert bad == [], (name, width, "de", bad)
    finally:
        await context.close()
