"""TOTP two-factor sign-in over real HTTP: enrolment with a QR code and a first code,
recovery codes shown once (and working once), the code step after the key, replayed codes
refused, the owner's rule making it mandatory (sign-in without it goes to enrolment), and
failed codes locking out with an audit entry."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pyotp
import pytest
import pytest_asyncio

from hub.clock import FakeClock
from hub.ledger.keys import IssuedKey
from hub.store.ledger_tables import Member
from tests.connectors.dashboard.support import DashboardHub, dashboard_hub

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Team2fa:
    dash: DashboardHub
    owner: Member
    owner_key: IssuedKey
    ann: Member  # an admin, with a key of her own
    ann_key: IssuedKey

    @property
    def clock(self) -> FakeClock:
        clock = self.dash.running.clock
        assert isinstance(clock, FakeClock)
        return clock

    def code(self, secret: str) -> str:
        return pyotp.TOTP(secret).at(self.clock.now())

    def wrong_code(self, secret: str) -> str:
        return f"{(int(self.code(secret)) + 1) % 1_000_000:06d}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def team(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Team2fa]:
    folder = tmp_path_factory.mktemp("two-factor")
    # Client addresses from X-Forwarded-For: each test signs in from addresses of its own.
    proxied = {"server": {"trusted_proxies": ["127.0.0.1"]}}
    async with dashboard_hub(f"sqlite+aiosqlite:///{folder}/hub.db", **proxied) as dash:
        hub, acme = dash.running.hub, dash.running.team
        owner = await hub.members.add(acme, "olga", role="owner")
        owner_key = await hub.keys.create(acme, name="olga", role="owner", member_id=owner.id)
        ann = await hub.members.add(acme, "ann", role="admin")
        ann_key = await hub.keys.create(acme, name="ann", role="admin", member_id=ann.id)
        yield Team2fa(dash, owner, owner_key, ann, ann_key)


def browser(team: Team2fa, address: str) -> httpx.AsyncClient:
    return team.dash.client(headers={"X-Forwarded-For": address})


def csrf_of(page: httpx.Response) -> str:
    return page.text.split('name="csrf" value="')[1].split('"')[0]


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    form = await client.get("/login")
    return await client.post("/login", data={"key": key, "csrf": csrf_of(form)})


async def enrol(team: Team2fa, client: httpx.AsyncClient) -> tuple[str, list[str]]:
    """Set up TOTP on the signed-in member's page; the secret and the recovery codes."""
    page = await client.get("/account/two-factor")
    begun = await client.post("/account/two-factor/begin", data={"csrf": csrf_of(page)})
    assert (begun.status_code, begun.headers["location"]) == (303, "/account/two-factor")
    page = await client.get("/account/two-factor")
    assert re.search(r'<img class="qr" src="data:image/svg\+xml;', page.text)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page.text)
    assert secret is not None
    plain = secret.group(1).replace(" ", "")
    done = await client.post("/account/two-factor/confirm",
                             data={"csrf": csrf_of(page), "code": team.code(plain)})  # fmt: skip
    assert done.status_code == 200, done.text
    codes = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    return plain, codes


async def test_enrol_then_sign_in_asks_for_a_code_that_works_once(team: Team2fa) -> None:
    async with browser(team, "10.1.0.1") as client:
        assert (await sign_in(client, team.ann_key.key)).headers["location"] == "/"
        secret, codes = await enrol(team, client)
        page = await client.get("/account/two-factor")
        assert "Two-factor sign-in is on" in page.text and "Recovery codes left: 10" in page.text
    # The secret is stored encrypted and the recovery codes only as hashes.
    from sqlalchemy import text

    async with team.dash.running.hub.sessions() as session:
        row = (await session.execute(text("SELECT * FROM totp_factors"))).mappings().one()
    assert secret not in str(dict(row)) and not any(c in str(dict(row)) for c in codes)
    team.clock.advance(30)
    async with browser(team, "10.1.0.1") as client:
        first = await sign_in(client, team.ann_key.key)
        assert (first.status_code, first.headers["location"]) == (303, "/login/code")
        assert "hub_session" not in first.headers.get("set-cookie", "")
        assert (await client.get("/")).headers["location"] == "/login"  # not signed in yet
        form = await client.get("/login/code")
        assert 'autocomplete="one-time-code"' in form.text
        wrong = await client.post("/login/code", data={"csrf": csrf_of(form), "code": "000000"})
        assert wrong.status_code == 401
        code = team.code(secret)
        good = await client.post("/login/code", data={"csrf": csrf_of(wrong), "code": code})
        assert (good.status_code, good.headers["location"]) == (303, "/")
        assert "acme · admin" in (await client.get("/")).text
    async with browser(team, "10.1.0.1") as client:  # the same code again, from another browser
        await sign_in(client, team.ann_key.key)
        form = await client.get("/login/code")
        replay = await client.post("/login/code", data={"csrf": csrf_of(form), "code": code})
        assert replay.status_code == 401 and "codes work once" in replay.text
        # A recovery code signs in once.
        used = await client.post("/login/code", data={"csrf": csrf_of(replay), "code": codes[0]})
        assert used.headers["location"] == "/"
    async with browser(team, "10.1.0.1") as client:
        await sign_in(client, team.ann_key.key)
        form = await client.get("/login/code")
        again = await client.post("/login/code", data={"csrf": csrf_of(form), "code": codes[0]})
        assert again.status_code == 401
    actions = [e.action for e in await team.dash.running.hub.audit.entries()]
    assert "member.two_factor" in actions and "member.recovery_code" in actions


async def test_the_owner_makes_it_mandatory_and_sign_in_without_it_goes_to_enrolment(
    team: Team2fa,
) -> None:
    hub = team.dash.running.hub
    async with browser(team, "10.2.0.1") as owner, browser(team, "10.2.0.1") as keyholder:
        await sign_in(keyholder, team.dash.admin.key)  # a key of no member, signed in before
        assert (await keyholder.get("/")).status_code == 200
        await sign_in(owner, team.owner_key.key)
        page = await owner.get("/account/two-factor")
        assert "Team rule" in page.text
        set_rule = await owner.post("/account/two-factor/rule",
                                    data={"csrf": csrf_of(page), "required": "on"})  # fmt: skip
        assert set_rule.status_code == 303
        # At once: the owner has no second factor, so only the two-factor pages are open.
        overview = await owner.get("/")
        assert (overview.status_code, overview.headers["location"]) == (303, "/account/two-factor")
        assert (await owner.get("/usage.json")).status_code == 401
        assert (await keyholder.get("/")).headers["location"] == "/login"  # ended at once
        page = await owner.get("/account/two-factor")
        assert "Your team requires two-factor sign-in" in page.text
        await enrol(team, owner)
        assert (await owner.get("/")).status_code == 200  # the upgraded session
    assert await hub.two_factor.required(team.dash.running.team)
    rule = [e for e in await hub.audit.entries() if e.action == "team.two_factor"]
    assert rule[-1].after == {"required": True} and rule[-1].actor.startswith("key:")
    # A key that belongs to no member can give no second factor: refused, and its sessions end.
    async with browser(team, "10.2.0.1") as client:
        refused = await sign_in(client, team.dash.admin.key)
        assert refused.status_code == 401 and "requires two-factor sign-in" in refused.text
    await hub.two_factor.require(team.dash.running.team, False)


async def test_failed_codes_lock_the_member_out_from_any_address_and_are_audited(
    team: Team2fa,
) -> None:
    hub, acme = team.dash.running.hub, team.dash.running.team
    dora = await hub.members.add(acme, "dora", role="admin")
    dora_key = await hub.keys.create(acme, name="dora", role="admin", member_id=dora.id)
    secret = (await hub.two_factor.begin(dora)).secret
    await hub.two_factor.confirm(dora, team.code(secret))
    team.clock.advance(30)
    for n in range(5):  # one wrong code from each of five addresses
        async with browser(team, f"10.9.0.{n}") as client:
            await sign_in(client, dora_key.key)
            form = await client.get("/login/code")
            code = team.wrong_code(secret)
            wrong = await client.post("/login/code", data={"csrf": csrf_of(form), "code": code})
            assert wrong.status_code == 401
    async with browser(team, "10.9.0.99") as client:
        await sign_in(client, dora_key.key)
        form = await client.get("/login/code")
        code = team.code(secret)
        locked = await client.post("/login/code", data={"csrf": csrf_of(form), "code": code})
        assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
    lockouts = [(e.target, e.team_id) for e in await hub.audit.entries()
                if e.action == "dashboard.lockout"]  # fmt: skip
    assert lockouts.count((f"member:{dora.id}", acme.id)) == 1
    assert not any(target.startswith("10.9.0.") for target, _ in lockouts)


async def test_failed_codes_count_against_the_address_too(team: Team2fa) -> None:
    hub, acme = team.dash.running.hub, team.dash.running.team
    cid = await hub.members.add(acme, "cid", role="viewer")
    cid_key = await hub.keys.create(acme, name="cid", role="viewer", member_id=cid.id)
    await hub.two_factor.confirm(cid, team.code((await hub.two_factor.begin(cid)).secret))
    async with browser(team, "10.9.1.1") as client:
        for _ in range(5):
            await sign_in(client, cid_key.key)
            form = await client.get("/login/code")
            await client.post("/login/code", data={"csrf": csrf_of(form), "code": "x"})
        refused = await sign_in(client, cid_key.key)
        assert refused.status_code == 401 and "Too many failed sign-ins" in refused.text
    assert any(e.target == "10.9.1.1" for e in await hub.audit.entries())


async def test_a_refused_code_is_said_in_the_pages_language(team: Team2fa) -> None:
    """The hub's sentence for a wrong first code, in German (connectors/dashboard/hub_words)."""
    hub, acme = team.dash.running.hub, team.dash.running.team
    gerd = await hub.members.add(acme, "gerd", role="admin")  # not enrolled by another test
    key = await hub.keys.create(acme, name="gerd", role="admin", member_id=gerd.id)
    async with browser(team, "10.1.0.77") as client:
        await sign_in(client, key.key)
        client.cookies.set("hub_lang", "de")
        page = await client.get("/account/two-factor")
        await client.post("/account/two-factor/begin", data={"csrf": csrf_of(page)})
        page = await client.get("/account/two-factor")
        wrong = await client.post("/account/two-factor/confirm",
                                  data={"csrf": csrf_of(page), "code": "abcdef"})  # fmt: skip
        assert wrong.status_code == 400
        assert "Dieser Code ist nicht der, den die App gerade anzeigt" in wrong.text
