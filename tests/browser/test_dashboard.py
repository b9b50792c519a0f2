"""The dashboard in a real browser: signing in, the explorer's totals against the ledger,
screenshots of every page at 1280 and 360 px in light and dark, keyboard-only navigation with
visible focus, and axe-core finding no serious or critical violation."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, expect

from hub.ledger.money import format_usd
from hub.ledger.summary_plan import local_days
from tests.browser.conftest import LOOKS, axe_violations, keyboard_walk, shoot, signed_in
from tests.connectors.dashboard.support import OPERATOR_KEY, DashboardHub

pytestmark = pytest.mark.asyncio(loop_scope="module")
USAGE = "/usage?group_by=model&from=2026-10-31&to=2026-11-20&tz=Asia/Kolkata"
PAGES = {
    "login": "/login",
    "overview": "/",
    "usage": USAGE,
    "requests": "/requests",
    "models": "/models",
    "suggestions": "/suggestions",
    "views": "/usage/views",
}


async def test_sign_in_and_the_explorer_totals_equal_the_ledger(
    browser: Browser, dash: DashboardHub
) -> None:
    context, page = await signed_in(browser, dash, dash.admin.key)
    try:
        assert await page.get_by_role("heading", level=1).inner_text() == "Overview November 2026"
        await page.get_by_role("link", name="Usage", exact=True).click()
        await page.goto(USAGE)
        zone = ZoneInfo("Asia/Kolkata")
        since, until = local_days(date(2026, 10, 31), date(2026, 11, 20), zone)
        ledger = await dash.ledger(since, until, lambda r: r.alias, dash.running.team.id)
        total = sum(g["cost_micros"] for g in ledger.values())
        assert await page.locator('[data-total="cost"]').inner_text() == format_usd(total)
        requests = sum(g["requests"] for g in ledger.values())
        assert await page.locator('[data-total="requests"]').inner_text() == f"{requests:,}"
        rows = await page.locator("#usage-table tbody tr").all_inner_texts()
        shown = {row.split("\t")[0]: row.split("\t")[-1] for row in rows}
        assert shown == {alias: format_usd(g["cost_micros"]) for alias, g in ledger.items()}
        # The form keeps its state in the URL: grouping by day is a shareable link.
        await page.get_by_label("Group by").select_option("day")
        await page.get_by_role("button", name="Show").click()
        assert "group_by=day" in page.url and "tz=Asia%2FKolkata" in page.url
        assert await page.locator('[data-total="cost"]').inner_text() == format_usd(total)
    finally:
        await context.close()


@pytest.mark.parametrize(("width", "scheme"), LOOKS)
async def test_screenshots_of_every_page_at_1280_and_360_light_and_dark(
    browser: Browser, dash: DashboardHub, output_dir: Path, width: int, scheme: str
) -> None:
    look: dict[str, Any] = {"viewport": {"width": width, "height": 900}, "color_scheme": scheme}
    # The sign-in page is seen signed out, in a context of its own.
    fresh = await browser.new_context(base_url=dash.running.base_url, **look)
    try:
        login = await fresh.new_page()
        await login.goto(PAGES["login"])
        await shoot(login, output_dir, f"login-{width}-{scheme}")
    finally:
        await fresh.close()
    context, page = await signed_in(browser, dash, OPERATOR_KEY, **look)
    try:
        for name, path in PAGES.items():
            if name != "login":
                await page.goto(path)
                await shoot(page, output_dir, f"{name}-{width}-{scheme}")
    finally:
        await context.close()


async def test_keyboard_reaches_every_control_with_visible_focus(
    browser: Browser, dash: DashboardHub
) -> None:
    context, page = await signed_in(browser, dash, OPERATOR_KEY)
    try:
        await page.goto(USAGE)
        controls, reached = await keyboard_walk(page, unfold=True)  # filters, day table
        assert set(controls) <= set(reached)
        # The skip link comes first and moves focus to the content.
        await page.goto(USAGE)
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
        await page.keyboard.press("Enter")
        assert await page.evaluate("document.activeElement.id") == "main"
    finally:
        await context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_axe_finds_no_serious_or_critical_violations(
    browser: Browser, dash: DashboardHub, scheme: str
) -> None:
    # The pages forbid scripts (CSP); the test's own context may inject axe.
    context, page = await signed_in(
        browser, dash, OPERATOR_KEY, bypass_csp=True, color_scheme=scheme
    )
    login_context = await browser.new_context(
        base_url=dash.running.base_url, bypass_csp=True, color_scheme=scheme
    )
    try:
        login = await login_context.new_page()
        for name, path in PAGES.items():
            target = login if name == "login" else page
            await target.goto(path)
            bad = await axe_violations(target)
            assert bad == [], (name, scheme, bad)
    finally:
        await login_context.close()
        await context.close()


async def test_the_live_tail_shows_an_api_request_within_a_second_without_polling(
    browser: Browser, dash: DashboardHub
) -> None:
    context, page = await signed_in(browser, dash, dash.admin.key)
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    try:
        await page.goto("/requests")
        assert await page.locator("#requests tbody tr").count() >= 5  # the seeded log
        await expect(page.locator("#tail-status")).to_contain_text("Live", timeout=15_000)
        before = len(fetched)
        async with dash.running.client() as api:
            answer = await api.post(
                "/v1/chat/completions",
                headers={"Authorization": f"Bearer {dash.member.key}"},
                json={"model": "demo", "messages": [{"role": "user", "content": "hello"}]},
            )
        assert answer.status_code == 200, answer.text
        row = page.locator("#requests tbody tr").first
        await expect(row).to_contain_text("demo", timeout=1_000)
        await expect(row).to_contain_text("openai_api")
        assert fetched[before:] == []  # the row came over the open stream: nothing was polled
        assert sum(url.endswith("/requests/stream") for url in fetched) == 1
    finally:
        await context.close()
