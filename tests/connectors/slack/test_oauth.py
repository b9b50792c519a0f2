"""Multi-workspace installs: a signed install link, Slack's OAuth redirect, stored tokens."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from connectors.slack.install import install_link_path
from hub.store.platform_tables import Installation
from tests.connectors.slack.conftest import HarnessFactory
from tests.connectors.slack.harness import SlackHarness
from tests.fakes.openai_server import reply
from tests.fakes.slack_api import Bot

TOKEN = "xoxb-installed-token"


def oauth_response() -> dict[str, object]:
    return {
        "ok": True,
        "app_id": "A1",
        "authed_user": {"id": "UINSTALLER"},
        "scope": "app_mentions:read,chat:write,commands",
        "token_type": "bot",
        "access_token": TOKEN,
        "bot_user_id": "UBOT2",
        "team": {"id": "T2", "name": "Second Workspace"},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def link(h: SlackHarness, team: str = "acme", valid_for: int = 3600) -> str:
    expires = int(h.clock.now().timestamp()) + valid_for
    return install_link_path(key=h.slack.client_secret, team=team, expires=expires)


async def start_install(h: SlackHarness, path: str) -> str:
    response = await h.http.get(path, follow_redirects=False)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc == "slack.com" and location.path == "/oauth/v2/authorize"
    query = parse_qs(location.query)
    assert query["client_id"] == [h.slack.client_id]
    assert "chat:write" in query["scope"][0].split(",")
    return query["state"][0]


async def test_install_stores_the_installation_binds_and_answers(
    slack_hub: HarnessFactory,
) -> None:
    async with slack_hub(multi_workspace=True, bind=False) as h:
        h.slack.bots[TOKEN] = Bot("T2", "UBOT2", "BBOT2", "Second Workspace")
        h.slack.oauth_codes["code-1"] = oauth_response()
        state = await start_install(h, link(h))
        done = await h.http.get("/slack/oauth_redirect", params={"code": "code-1", "state": state})
        assert done.status_code == 200
        assert "accounted to the hub team &#x27;acme&#x27;" in done.text
        access = h.slack.calls_to("oauth.v2.access")
        assert [c.args["code"] for c in access] == ["code-1"]

        caller = await h.running.hub.bindings.caller_for("slack", "T2")
        assert caller is not None and caller.team_name == "acme"
        async with h.running.hub.sessions() as session:
            rows = list(await session.scalars(select(Installation)))
        assert sorted((r.kind, r.workspace_id) for r in rows) == [
            ("bot", "T2"),
            ("installation", "T2"),
        ]
        assert all(TOKEN not in r.data_encrypted for r in rows)  # stored encrypted only

        replay = await h.http.get("/slack/oauth_redirect", params={"code": "x", "state": state})
        assert replay.status_code == 400  # a state is single use

        h.llm.script(reply("Hello, second workspace."))
        await h.mention("hi", team="T2")
        stop = await h.slack.wait_for("chat.stopStream")
        await h.connector.drain()
        assert stop.token == TOKEN
        assert {c.token for c in h.slack.calls_to("chat.startStream", "chat.postMessage")} == {
            TOKEN
        }


async def test_install_links_must_be_signed_and_fresh(slack_hub: HarnessFactory) -> None:
    async with slack_hub(multi_workspace=True, bind=False) as h:
        forged = await h.http.get("/slack/install?team=acme&exp=99999999999&sig=00")
        assert forged.status_code == 403
        expired = await h.http.get(link(h, valid_for=-10), follow_redirects=False)
        assert expired.status_code == 403
        unknown = await h.http.get(link(h, team="nobody"), follow_redirects=False)
        assert unknown.status_code == 404


async def test_install_without_team_leaves_the_workspace_unbound(
    slack_hub: HarnessFactory,
) -> None:
    async with slack_hub(multi_workspace=True, bind=False) as h:
        h.slack.bots[TOKEN] = Bot("T2", "UBOT2", "BBOT2")
        h.slack.oauth_codes["code-2"] = oauth_response()
        state = await start_install(h, "/slack/install")
        done = await h.http.get("/slack/oauth_redirect", params={"code": "code-2", "state": state})
        assert done.status_code == 200
        assert "hub bind slack T2 --team NAME" in done.text
        assert await h.running.hub.bindings.caller_for("slack", "T2") is None

        await h.mention("hi", team="T2")
        told = await h.slack.wait_for("chat.postMessage")
        await h.connector.drain()
        assert told.args["text"] == (
            "This Slack workspace is not connected to a hub team yet; ask an admin to bind it: "
            "`hub bind slack T2 --team NAME`."
        )
        assert h.llm.requests == []


async def test_redirect_with_a_made_up_state_is_refused(slack_hub: HarnessFactory) -> None:
    async with slack_hub(multi_workspace=True, bind=False) as h:
        h.slack.oauth_codes["code-3"] = oauth_response()
        response = await h.http.get(
            "/slack/oauth_redirect", params={"code": "code-3", "state": "made.up"}
        )
        assert response.status_code == 400
        assert h.slack.calls_to("oauth.v2.access") == []
