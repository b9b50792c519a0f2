"""Team administration in a real browser: a key created by keyboard alone with its secret on
the page once, screenshots of every administration page at 1280 and 360 px in light and
dark, keyboard-only navigation reaching every control with visible focus, and axe-core
finding no serious or critical violation (refused forms included)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page

from hub.audit import Actor, acting_as
from hub.ledger.teams import QuotaSpec
from tests.browser.conftest import LOOKS, axe_violations, keyboard_walk, shoot, signed_in
from tests.connectors.dashboard.admin_support import AdminHub, admin_hub
from tests.connectors.dashboard.support import OPERATOR_KEY

pytestmark = pytest.mark.asyncio(loop_scope="module")
Q = "?team=acme"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def h(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AdminHub]:
    folder = tmp_path_factory.mktemp("admin-browser")
    config = {"webhooks": {"allow_private_targets": True}}
    async with admin_hub(f"sqlite+aiosqlite:///{folder}/hub.db", **config) as hub:
        await seed(hub)
        yield hub


async def seed(h: AdminHub) -> None:
    """A team with something on every page: members, a linked account, limits, a binding,
    a subscription and their audit entries."""
    hub, team = h.hub, h.dash.running.team
    with acting_as(Actor("key", str(h.owner.id))):
        ann = await hub.members.add(team, "ann", role="admin")
        await hub.members.add(team, "bob")
        await hub.members.link(ann, platform="slack", workspace="T1", user="U0ANN")
        await hub.keys.update(h.dash.admin.id, ip_allowlist=["10.0.0.0/8"])
        await hub.teams.set_quota(QuotaSpec("team", team.id, "month", 250_000_000, None),
                                  team_id=team.id)  # fmt: skip
        await hub.rate_limits.set(scope="member", scope_id=ann.id, team_id=team.id, rpm=60,
                                  tpm=None)  # fmt: skip
        await hub.bindings.bind("slack", "T0123ABCD", team)
        from hub.events.subscriptions import Subscriptions  # noqa: PLC0415

        await Subscriptions.for_hub(hub).create(
            team_id=team.id, url="http://127.0.0.1:9/hooks/hub", events=["key.created"]
        )


def pages(h: AdminHub) -> dict[str, str]:
    return {
        "admin-pick": "/team",
        "admin-members": "/team/members" + Q,
        "admin-keys": "/team/keys" + Q,
        "admin-key": f"/team/keys/{h.dash.admin.id}" + Q,
        "admin-limits": "/team/limits" + Q,
        "admin-bindings": "/team/bindings" + Q,
        "admin-events": "/team/events" + Q,
        "admin-audit": "/team/audit" + Q,
    }


async def refused_key_form(page: Page) -> None:
    """The keys page after a refused creation: the reason beside the field, values kept."""
    await page.goto("/team/keys" + Q)
    await page.get_by_label("Name", exact=True).fill("ci")
    await page.get_by_label("Allowed networks").fill("10.0.0.0/33")
    await page.get_by_role("button", name="Create key").click()
    await page.wait_for_load_state()


async def test_a_key_is_created_by_keyboard_and_its_secret_shown_once(
    browser: Browser, h: AdminHub
) -> None:
    context, page = await signed_in(browser, h.dash, h.owner.key)
    try:
        await page.get_by_role("link", name="Team", exact=True).click()
        await page.wait_for_url("**/team/members")
        await page.get_by_role("link", name="Keys", exact=True).click()
        await page.get_by_label("Name", exact=True).focus()
        await page.keyboard.type("deploy-bot")
        await page.keyboard.press("Tab")  # the role
        await page.keyboard.press("Tab")  # the member
        await page.keyboard.press("Tab")  # the expiry
        await page.get_by_label("Allowed networks").focus()
        await page.keyboard.type("10.0.0.0/33")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")  # Create key
        await page.wait_for_load_state()
        error = page.locator("#create-ip_allowlist-error")
        assert "Not a network address" in await error.inner_text()
        assert await page.get_by_label("Name", exact=True).input_value() == "deploy-bot"
        await page.get_by_label("Allowed networks").fill("10.0.0.0/8")
        await page.get_by_role("button", name="Create key").click()
        await page.wait_for_load_state()
        secret = await page.get_by_label("The new key").input_value()
        assert secret.startswith("uh-")
        assert (await h.hub.keys.authenticate(secret, client_ip="10.9.9.9")).key.name == (
            "deploy-bot"
        )
        await page.get_by_role("link", name="Go to the key").click()
        assert secret not in await page.content()
        await page.goto("/team/keys")
        assert secret not in await page.content()
    finally:
        await context.close()


@pytest.mark.parametrize(("width", "scheme"), LOOKS)
async def test_screenshots_of_every_admin_page_at_1280_and_360_light_and_dark(
    browser: Browser, h: AdminHub, output_dir: Path, width: int, scheme: str
) -> None:
    context, page = await signed_in(
        browser, h.dash, OPERATOR_KEY, viewport={"width": width, "height": 900},
        color_scheme=scheme,
    )  # fmt: skip
    try:
        for name, path in pages(h).items():
            await page.goto(path)
            await shoot(page, output_dir, f"{name}-{width}-{scheme}")
        await refused_key_form(page)
        await shoot(page, output_dir, f"admin-keys-refused-{width}-{scheme}")
    finally:
        await context.close()


async def test_keyboard_reaches_every_admin_control_with_visible_focus(
    browser: Browser, h: AdminHub
) -> None:
    context, page = await signed_in(browser, h.dash, OPERATOR_KEY)
    try:
        for name, path in pages(h).items():
            await page.goto(path)
            controls, reached = await keyboard_walk(page)
            missing = set(controls) - set(reached)
            assert not missing, (name, missing)
    finally:
        await context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_axe_finds_no_serious_or_critical_violations_on_admin_pages(
    browser: Browser, h: AdminHub, scheme: str
) -> None:
    context, page = await signed_in(
        browser, h.dash, OPERATOR_KEY, bypass_csp=True, color_scheme=scheme
    )
    try:
        targets = [*pages(h).items(), ("admin-keys-refused", "")]
        for name, path in targets:
            if path:
                await page.goto(path)
            else:
                await refused_key_form(page)
            bad = await axe_violations(page)
            assert bad == [], (name, scheme, bad)
    finally:
        await context.close()
