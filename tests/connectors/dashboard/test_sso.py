"""Single sign-on to the dashboard through the real flows, against a fake OpenID provider and
a fake Discord OAuth2 server on 127.0.0.1: discovery, PKCE, state and nonce, the ID token
checked against the JWKS (every way it can be wrong is refused), the identity mapped to the
linked member (OIDC subject, verified email, Slack user, Discord user), sessions of members
re-resolved on every request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio

from hub.store.ledger_tables import Member
from tests.connectors.dashboard.support import NOW, DashboardHub, dashboard_hub
from tests.fakes import discord_oauth, oidc_provider
from tests.fakes.discord_oauth import FakeDiscordOAuth
from tests.fakes.oidc_provider import FakeOpenIdProvider

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Sso:
    dash: DashboardHub
    idp: FakeOpenIdProvider
    discord: FakeDiscordOAuth
    ada: Member  # acme admin, linked by OIDC subject
    eve: Member  # acme viewer, linked by email
    nelly: tuple[Member, Member]  # a Discord user who is a member of acme and of globex


def clock_seconds() -> int:
    return int(NOW.timestamp())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sso(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sso]:
    folder = tmp_path_factory.mktemp("sso")
    async with FakeOpenIdProvider(now=clock_seconds) as idp, FakeDiscordOAuth() as discord:
        dashboard = {
            "oidc": {"issuer": idp.issuer, "client_id": oidc_provider.CLIENT_ID,
                     "client_secret": oidc_provider.CLIENT_SECRET, "label": "Example"},
            "discord_oauth": {"client_id": discord_oauth.CLIENT_ID,
                              "client_secret": discord_oauth.CLIENT_SECRET,
                              "base_url": discord.base_url},
        }  # fmt: skip
        async with dashboard_hub(
            f"sqlite+aiosqlite:///{folder}/hub.db", connectors={"dashboard": dashboard}
        ) as dash:
            hub, team = dash.running.hub, dash.running.team
            ada = await hub.members.add(team, "ada", role="admin")
            await hub.members.link(ada, platform="oidc", workspace=idp.issuer, user="subject-1")
            eve = await hub.members.add(team, "eve", role="viewer")
            await hub.members.link(eve, platform="email", workspace="", user="Eve@Example.com")
            nelly_acme = await hub.members.add(team, "nelly", role="viewer")
            nelly_globex = await hub.members.add(dash.other_team, "nelly", role="admin")
            user = discord.user["id"]
            await hub.members.link(nelly_acme, platform="discord", workspace="G1", user=user)
            await hub.members.link(nelly_globex, platform="discord", workspace="G9", user=user)
            yield Sso(dash, idp, discord, ada, eve, (nelly_acme, nelly_globex))


async def through(
    client: httpx.AsyncClient, provider: str, *, query: dict[str, str] | None = None
) -> httpx.Response:
    """Start the sign-in at the hub, let the provider answer (it approves at once), and hand
    the answer to the hub's callback: the browser's part of the flow."""
    started = await client.get(f"/login/{provider}")
    assert started.status_code == 303, started.text
    async with httpx.AsyncClient() as browser_elsewhere:
        approved = await browser_elsewhere.get(started.headers["location"])
    assert approved.status_code == 302, approved.text
    back = urlsplit(approved.headers["location"])
    assert back.path == f"/login/{provider}/callback"
    answer = {k: v[0] for k, v in parse_qs(back.query).items()}
    return await client.get(back.path, params={**answer, **(query or {})})


async def test_openid_connect_signs_a_member_in_by_subject_with_pkce_state_and_nonce(
    sso: Sso,
) -> None:
    async with sso.dash.client() as client:
        login = await client.get("/login")
        assert 'href="/login/oidc"' in login.text and "Sign in with Example" in login.text
        assert 'href="/login/discord"' in login.text
        started = await client.get("/login/oidc")
        asked = parse_qs(urlsplit(started.headers["location"]).query)
        assert asked["code_challenge_method"] == ["S256"] and asked["nonce"][0]
        assert asked["scope"] == ["openid email profile"] and asked["state"][0]
        assert "hub_oauth=" in started.headers["set-cookie"]
        assert "HttpOnly" in started.headers["set-cookie"]
        signed = await through(client, "oidc")
        assert (signed.status_code, signed.headers["location"]) == (303, "/"), signed.text
        page = await client.get("/")
        assert page.status_code == 200 and "acme · admin" in page.text
    # Discovery and the key set are read once per process, not per sign-in.
    assert sso.idp.requests.count(("GET", "/.well-known/openid-configuration")) == 1
    assert sso.idp.requests.count(("GET", "/jwks")) == 1


async def test_a_changed_role_or_a_removed_member_takes_effect_at_once(sso: Sso) -> None:
    hub = sso.dash.running.hub
    ghost = await hub.members.add(sso.dash.running.team, "ghost", role="admin")
    await hub.members.link(ghost, platform="oidc", workspace=sso.idp.issuer, user="ghost-1")
    sso.idp.user = {"sub": "ghost-1", "name": "Ghost"}
    try:
        async with sso.dash.client() as client:
            assert (await through(client, "oidc")).status_code == 303
            assert "acme · admin" in (await client.get("/")).text
            await hub.members.set_role(ghost, "viewer")
            page = await client.get("/")
            assert "acme · viewer" in page.text
            token = page.text.split('name="csrf" value="')[1].split('"')[0]
            refused = await client.post("/account/two-factor/rule",
                                        data={"csrf": token, "required": "on"})  # fmt: skip
            assert refused.status_code == 403  # viewers see, admins change
            await hub.members.remove(ghost)
            gone = await client.get("/")
            assert (gone.status_code, gone.headers["location"]) == (303, "/login")
    finally:
        sso.idp.user = {"sub": "subject-1", "name": "Ada"}


async def test_a_verified_email_finds_its_member_and_an_unverified_one_does_not(
    sso: Sso,
) -> None:
    sso.idp.user = {"sub": "someone-new", "email": "eve@example.com", "email_verified": True}
    try:
        async with sso.dash.client() as client:
            assert (await through(client, "oidc")).status_code == 303
            assert "acme · viewer" in (await client.get("/")).text
        sso.idp.user = {"sub": "someone-new", "email": "eve@example.com", "email_verified": False}
        async with sso.dash.client() as client:
            refused = await through(client, "oidc")
            assert refused.status_code == 403 and "not linked to a team member" in refused.text
            assert "hub_session" not in refused.headers.get("set-cookie", "")
    finally:
        sso.idp.user = {"sub": "subject-1", "name": "Ada"}


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"nonce": "not-this-browsers"}, "nonce"),
        ({"aud": "another-client"}, "aud"),
        ({"iss": "https://elsewhere.example"}, "iss"),
        ({"exp": clock_seconds() - 3600}, "exp"),
        ({"iat": clock_seconds() + 3600}, "issued in the future"),
        ({"aud": ["hub-dashboard", "another"], "azp": "another"}, "another party"),
    ],
)
async def test_an_id_token_with_a_wrong_claim_is_refused(
    sso: Sso, tamper: dict[str, object], reason: str
) -> None:
    sso.idp.tamper = tamper
    async with sso.dash.client() as client:
        refused = await through(client, "oidc")
        assert refused.status_code == 401, refused.text
        assert reason in refused.text
        assert "hub_session" not in refused.headers.get("set-cookie", "")


async def test_a_signature_by_a_key_not_in_the_jwks_is_refused_and_rotation_is_followed(
    sso: Sso,
) -> None:
    sso.idp.sign_with_other_key = True
    async with sso.dash.client() as client:
        refused = await through(client, "oidc")
        assert refused.status_code == 401 and "signature is not valid" in refused.text
    sso.idp.rotate()  # a new key id: the hub reads the key set again
    async with sso.dash.client() as client:
        assert (await through(client, "oidc")).status_code == 303


async def test_an_answer_for_another_browser_a_replay_or_a_refusal_signs_no_one_in(
    sso: Sso,
) -> None:
    async with sso.dash.client() as client:
        forged = await through(client, "oidc", query={"state": "someone-elses"})
        assert forged.status_code == 401 and "not for this browser" in forged.text
    async with sso.dash.client() as client, sso.dash.client() as other_browser:
        # The answer taken to a browser that did not start the flow: no flow cookie.
        started = await client.get("/login/oidc")
        async with httpx.AsyncClient() as elsewhere:
            approved = await elsewhere.get(started.headers["location"])
        callback = approved.headers["location"]
        stolen = await other_browser.get(callback)
        assert stolen.status_code == 400 and "start again" in stolen.text
        first = await client.get(callback)
        assert first.status_code == 303
        replay = await client.get(callback)  # the flow cookie was used up
        assert replay.status_code in (303, 400)
        assert "hub_session" not in replay.headers.get("set-cookie", "")
    sso.idp.deny = True
    async with sso.dash.client() as client:
        denied = await through(client, "oidc")
        assert denied.status_code == 401 and "The user said no." in denied.text


async def test_discord_signs_in_a_member_of_two_teams_after_choosing_one(sso: Sso) -> None:
    async with sso.dash.client() as client:
        started = await client.get("/login/discord")
        asked = parse_qs(urlsplit(started.headers["location"]).query)
        assert asked["scope"] == ["identify"] and asked["code_challenge_method"] == ["S256"]
        answer = await through(client, "discord")
        assert (answer.status_code, answer.headers["location"]) == (303, "/login/team")
        choice = await client.get("/login/team")
        assert "acme · viewer" in choice.text and "globex · admin" in choice.text
        token = choice.text.split('name="csrf" value="')[1].split('"')[0]
        outsider = await client.post("/login/team", data={"csrf": token, "member": str(sso.ada.id)})
        assert outsider.status_code == 400  # only the teams offered
        token = outsider.text.split('name="csrf" value="')[1].split('"')[0]  # the form anew
        globex = sso.nelly[1]
        chosen = await client.post("/login/team", data={"csrf": token, "member": str(globex.id)})
        assert (chosen.status_code, chosen.headers["location"]) == (303, "/")
        page = await client.get("/")
        assert "globex · admin" in page.text and "acme" not in page.text.split("<main")[0]
    assert ("GET", "/api/users/@me") in sso.discord.requests


async def test_someone_not_linked_to_a_member_is_told_what_to_do(sso: Sso) -> None:
    sso.idp.user = {"sub": "stranger", "name": "Stranger"}
    try:
        async with sso.dash.client() as client:
            refused = await through(client, "oidc")
            assert refused.status_code == 403
            assert "Stranger signed in with Example" in refused.text
            assert "hub member link" in refused.text
    finally:
        sso.idp.user = {"sub": "subject-1", "name": "Ada"}


async def test_sign_in_with_slack_maps_to_the_linked_slack_user(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("slack-sso")
    async with FakeOpenIdProvider(now=clock_seconds, auth_method="client_secret_post") as slack:
        slack.slack(user="U042", team="T1")
        dashboard = {"oidc": {"issuer": slack.issuer, "client_id": oidc_provider.CLIENT_ID,
                              "client_secret": oidc_provider.CLIENT_SECRET, "maps_by": "slack",
                              "label": "Slack"}}  # fmt: skip
        async with dashboard_hub(
            f"sqlite+aiosqlite:///{folder}/hub.db", connectors={"dashboard": dashboard}
        ) as dash:
            hub = dash.running.hub
            sam = await hub.members.add(dash.running.team, "sam", role="viewer")
            await hub.members.link(sam, platform="slack", workspace="T1", user="U042")
            async with dash.client() as client:
                assert "Sign in with Slack" in (await client.get("/login")).text
                assert (await through(client, "oidc")).status_code == 303
                assert "acme · viewer" in (await client.get("/")).text
            async with dash.client() as client:  # Slack refuses a code with HTTP 200, ok: false
                refused = await through(client, "oidc", query={"code": "not-a-code"})
                assert refused.status_code == 401 and "(invalid_code)" in refused.text
            slack.slack(user="U042", team="T-other")  # the same user id in another workspace
            async with dash.client() as client:
                assert (await through(client, "oidc")).status_code == 403
