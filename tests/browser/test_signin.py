"""Sign-in in a real browser: a key, OpenID Connect against a fake provider on 127.0.0.1 (the
browser follows the real redirects), TOTP enrolled and then required by the team's owner;
CSRF and lockout; screenshots of the sign-in pages at 1280 and 360 px, light and dark;
keyboard-only use with visible focus; axe-core finding no serious or critical violation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, expect

from hub.clock import FakeClock
from hub.ledger.keys import IssuedKey
from tests.connectors.dashboard.support import NOW, DashboardHub, dashboard_hub
from tests.fakes import oidc_provider
from tests.fakes.oidc_provider import FakeOpenIdProvider

pytestmark = pytest.mark.asyncio(loop_scope="module")
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
CONTROLS = (
    "[...document.querySelectorAll('a[href], button, input:not([type=hidden]), select')]"
    ".map(e => e.outerHTML.slice(0, 80))"
)


@dataclass
class SignInHub:
    dash: DashboardHub
    idp: FakeOpenIdProvider
    owner_key: IssuedKey  # the owner's own key (held by member "olga")
    tom_key: IssuedKey  # an admin's own key, for the screenshots of the code step
    tom_secret: str

    @property
    def clock(self) -> FakeClock:
        clock = self.dash.running.clock
        assert isinstance(clock, FakeClock)
        return clock

    def code(self, secret: str) -> str:
        return pyotp.TOTP(secret).at(self.clock.now())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def h(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SignInHub]:
    folder = tmp_path_factory.mktemp("signin-browser")
    async with FakeOpenIdProvider(now=lambda: int(NOW.timestamp())) as idp:
        oidc = {"issuer": idp.issuer, "client_id": oidc_provider.CLIENT_ID,
                "client_secret": oidc_provider.CLIENT_SECRET, "label": "Example"}  # fmt: skip
        config: dict[str, Any] = {
            "connectors": {"dashboard": {"oidc": oidc, "lockout_failures": 3}},
            "server": {"trusted_proxies": ["127.0.0.1"]},  # each test its own address
        }
        async with dashboard_hub(f"sqlite+aiosqlite:///{folder}/hub.db", **config) as dash:
            hub, acme = dash.running.hub, dash.running.team
            ada = await hub.members.add(acme, "ada", role="admin")
            await hub.members.link(ada, platform="oidc", workspace=idp.issuer, user="subject-1")
            for team, role in ((acme, "viewer"), (dash.other_team, "admin")):  # in two teams
                bea = await hub.members.add(team, "bea", role=role)
                # An identity links once per workspace: the team's name tells the two apart.
                await hub.members.link(
                    bea, platform="email", workspace=team.name, user="bea@example.com"
                )
            olga = await hub.members.add(acme, "olga", role="owner")
            owner_key = await hub.keys.create(acme, name="olga", role="owner", member_id=olga.id)
            tom = await hub.members.add(acme, "tom", role="admin")
            tom_key = await hub.keys.create(acme, name="tom", role="admin", member_id=tom.id)
            secret = (await hub.two_factor.begin(tom)).secret
            signin = SignInHub(dash, idp, owner_key, tom_key, secret)
            await hub.two_factor.confirm(tom, signin.code(secret))
            yield signin


async def context(
    browser: Browser, h: SignInHub, address: str, **options: Any
) -> tuple[BrowserContext, Page]:
    made = await browser.new_context(
        base_url=h.dash.running.base_url, extra_http_headers={"X-Forwarded-For": address},
        **options,
    )  # fmt: skip
    return made, await made.new_page()


async def sign_in_with_key(page: Page, key: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Key").fill(key)
    await page.get_by_label("Key").press("Enter")


async def test_sign_in_with_a_key_and_a_forged_form_and_a_lockout(
    browser: Browser, h: SignInHub
) -> None:
    made, page = await context(browser, h, "10.20.0.1")
    try:
        await page.goto("/login")
        await page.locator('input[name="csrf"]').evaluate("e => e.value = 'forged'")
        await page.get_by_label("Key").fill(h.dash.admin.key)
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await expect(page.get_by_role("alert")).to_have_text("The form expired; try again.")
        assert page.url.endswith("/login")
        await page.get_by_label("Key").fill(h.dash.admin.key)  # the form drawn anew works
        await page.get_by_label("Key").press("Enter")
        await page.wait_for_url(f"{h.dash.running.base_url}/")
        await page.get_by_role("button", name="Sign out").click()
        await page.wait_for_url("**/login")
        for _ in range(3):
            await sign_in_with_key(page, "uh-not-a-key")
            await expect(page.get_by_role("alert")).to_have_text("That key was not accepted.")
        await sign_in_with_key(page, h.dash.admin.key)
        await expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    finally:
        await made.close()
    entries = await h.dash.running.hub.audit.entries()
    assert [e.target for e in entries if e.action == "dashboard.lockout"] == ["10.20.0.1"]


async def test_sign_in_with_openid_connect_against_the_fake_provider(
    browser: Browser, h: SignInHub
) -> None:
    made, page = await context(browser, h, "10.20.0.2")
    try:
        await page.goto("/")
        assert page.url.endswith("/login")
        await page.get_by_role("link", name="Sign in with Example").click()
        await page.wait_for_url(f"{h.dash.running.base_url}/")
        await expect(page.locator(".who")).to_contain_text("acme · admin")
        # The browser went to the provider and back; the hub redeemed the code itself.
        assert {("GET", "/authorize"), ("POST", "/token")} <= set(h.idp.requests)
    finally:
        await made.close()


async def test_totp_enrolled_then_required_by_the_owner(browser: Browser, h: SignInHub) -> None:
    made, page = await context(browser, h, "10.20.0.3")
    try:
        await sign_in_with_key(page, h.owner_key.key)
        await page.wait_for_url(f"{h.dash.running.base_url}/")
        await page.get_by_role("link", name="Two-factor", exact=True).click()
        await page.get_by_label("Members of acme must sign in with two-factor").check()
        await page.get_by_role("button", name="Save").click()
        # Required now, and the owner has none: every page leads to the set-up.
        await page.goto("/usage")
        assert page.url.endswith("/account/two-factor")
        await expect(page.get_by_role("status")).to_contain_text("Your team requires")
        await page.get_by_role("button", name="Set up two-factor sign-in").click()
        qr = page.get_by_role("img", name="QR code for your authenticator app")
        assert (await qr.get_attribute("src") or "").startswith("data:image/svg+xml")
        secret = (await page.locator("#totp-secret").inner_text()).replace(" ", "")
        await page.get_by_label("Code").fill(h.code(secret))
        await page.get_by_role("button", name="Confirm").click()
        codes = await page.locator("#recovery-codes li").all_inner_texts()
        assert len(codes) == 10
        await page.get_by_role("link", name="I have saved them: continue").click()
        await page.wait_for_url(f"{h.dash.running.base_url}/")
        await page.get_by_role("button", name="Sign out").click()
        # Signing in again asks for a code; the one used to confirm is spent.
        await sign_in_with_key(page, h.owner_key.key)
        await page.wait_for_url("**/login/code")
        await page.get_by_label("Code").fill(h.code(secret))
        await page.get_by_label("Code").press("Enter")
        await expect(page.get_by_role("alert")).to_contain_text("codes work once")
        h.clock.advance(30)
        await page.get_by_label("Code").fill(h.code(secret))
        await page.get_by_label("Code").press("Enter")
        await page.wait_for_url(f"{h.dash.running.base_url}/")
        await expect(page.locator(".who")).to_contain_text("acme · owner")
    finally:
        await made.close()
        await h.dash.running.hub.two_factor.require(h.dash.running.team, False)


async def pages_of(browser: Browser, h: SignInHub, **options: Any) -> AsyncIterator[Page]:
    """Each new sign-in page in turn, reached as a person would."""
    made, page = await context(browser, h, "10.20.0.4", **options)
    try:
        await page.goto("/login")
        yield page  # the key form with the single sign-on button
        await sign_in_with_key(page, h.tom_key.key)
        await page.wait_for_url("**/login/code")
        yield page  # the code step
        h.clock.advance(30)
        await page.get_by_label("Code").fill(h.code(h.tom_secret))
        await page.get_by_label("Code").press("Enter")
        await page.wait_for_url(f"{h.dash.running.base_url}/")
        await page.goto("/account/two-factor")
        yield page  # two-factor on, for an admin
        await h.dash.running.hub.two_factor.remove(await _tom(h))
        await page.goto("/account/two-factor")
        await page.get_by_role("button", name="Set up two-factor sign-in").click()
        yield page  # the QR code
        secret = (await page.locator("#totp-secret").inner_text()).replace(" ", "")
        h.tom_secret = secret
        await page.get_by_label("Code").fill(h.code(secret))
        await page.get_by_role("button", name="Confirm").click()
        yield page  # the recovery codes
    finally:
        await made.close()


async def _tom(h: SignInHub) -> Any:
    return await h.dash.running.hub.members.get(h.dash.running.team, "tom")


NAMES = ("login-sso", "login-code", "two-factor", "two-factor-enrol", "recovery-codes")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 360])
async def test_screenshots_and_axe_of_the_sign_in_pages(
    browser: Browser, h: SignInHub, output_dir: Path, scheme: str, width: int
) -> None:
    seen = []
    # The pages forbid scripts (CSP); the test's own context may inject axe.
    async for page in pages_of(
        browser, h, viewport={"width": width, "height": 900}, color_scheme=scheme,
        bypass_csp=True,
    ):  # fmt: skip
        name = NAMES[len(seen)]
        shot = output_dir / f"{name}-{width}-{scheme}.png"
        await page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5_000
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, name
        await page.add_script_tag(path=str(AXE))
        result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert bad == [], (name, bad)
        seen.append(name)
    assert tuple(seen) == NAMES


async def test_keyboard_reaches_every_sign_in_control_with_visible_focus(
    browser: Browser, h: SignInHub
) -> None:
    async for page in pages_of(browser, h):
        controls = await page.evaluate(CONTROLS)
        reached: list[str] = []
        for _ in range(len(controls) * 2 + 6):
            await page.keyboard.press("Tab")
            html, style, width = await page.evaluate(
                """() => { const e = document.activeElement; const s = getComputedStyle(e);
                   return [e.outerHTML.slice(0, 80), s.outlineStyle, s.outlineWidth]; }"""
            )
            if html.startswith("<body"):
                continue
            assert style != "none" and width != "0px", html  # focus is visible
            reached.append(html)
        assert set(controls) <= set(reached), set(controls) - set(reached)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 360])
async def test_a_member_of_two_teams_chooses_one_by_keyboard(
    browser: Browser, h: SignInHub, output_dir: Path, scheme: str, width: int
) -> None:
    h.idp.user = {"sub": "bea-1", "email": "bea@example.com", "email_verified": True}
    made, page = await context(
        browser, h, "10.20.0.5", bypass_csp=True, color_scheme=scheme,
        viewport={"width": width, "height": 900},
    )  # fmt: skip
    try:
        await page.goto("/login")
        await page.get_by_role("link", name="Sign in with Example").click()
        await page.wait_for_url("**/login/team")
        shot = output_dir / f"login-team-{width}-{scheme}.png"
        await page.screenshot(path=str(shot), full_page=True)
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        await page.add_script_tag(path=str(AXE))
        result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert bad == []
        # Keyboard only: to the first team, the arrow to the next, Enter.
        await page.keyboard.press("Tab")  # the skip link
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.type") == "radio"
        await page.keyboard.press("ArrowDown")
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"{h.dash.running.base_url}/")
        await expect(page.locator(".who")).to_contain_text("globex · admin")
    finally:
        await made.close()
        h.idp.user = {"sub": "subject-1", "name": "Ada"}
