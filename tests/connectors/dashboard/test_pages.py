"""The dashboard's contract over real HTTP: sign-in (cookie flags, CSRF, lockout with its
audit entry), the explorer and its exports equal to the ledger in any timezone, and nothing of
another team reachable (404)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from hub.ledger.money import micros_to_usd
from hub.ledger.reports import matches
from hub.ledger.summary import UsageFilter
from hub.ledger.summary_plan import local_days
from tests.connectors.dashboard.support import OPERATOR_KEY, DashboardHub, dashboard_hub

SUMS = ("requests", "prompt_tokens", "completion_tokens", "cost_micros")


async def test_signed_out_pages_go_to_login_and_a_key_signs_in(dash: DashboardHub) -> None:
    async with dash.client() as client:
        response = await client.get("/")
        assert (response.status_code, response.headers["location"]) == (303, "/login")
        assert (await client.get("/usage.json")).status_code == 401
        form = await client.get("/login")
        assert 'name="csrf"' in form.text and 'name="key"' in form.text
        assert "unsafe-inline" not in form.headers["content-security-policy"]
        response = await client.post("/login", data={"key": dash.admin.key})
        assert (response.status_code, response.headers["location"]) == (303, "/")
        cookie = response.headers["set-cookie"]
        assert "hub_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # plain http on 127.0.0.1
        assert dash.admin.key not in cookie  # the cookie is sealed; the key is not in it
        page = await client.get("/")
        assert page.status_code == 200 and "Overview" in page.text and "acme" in page.text


async def test_behind_https_the_cookie_is_secure(sqlite_url: str) -> None:
    async with dashboard_hub(sqlite_url, server={"public_url": "https://hub.example.com"}) as dash:
        async with dash.client() as client:
            response = await client.post("/login", data={"key": dash.admin.key})
            assert "Secure" in response.headers["set-cookie"]


async def test_forms_need_their_csrf_token_and_sign_in_refuses_other_sites(
    dash: DashboardHub,
) -> None:
    async with dash.client() as client:
        await client.get("/login")
        forged = await client.post("/login", data={"key": dash.admin.key, "csrf": "nope"})
        assert forged.status_code == 403
        elsewhere = await client.post(
            "/login", data={"key": dash.admin.key}, headers={"Origin": "https://evil.example"}
        )
        assert elsewhere.status_code == 403 and "hub_session" not in elsewhere.headers.get(
            "set-cookie", ""
        )
        token = elsewhere.text.split('name="csrf" value="')[1].split('"')[0]  # the form anew
        good = await client.post("/login", data={"key": dash.admin.key, "csrf": token})
        assert good.status_code == 303
        assert (await client.post("/logout", data={})).status_code == 403  # no token
        assert (await client.get("/")).status_code == 200  # still signed in
        page = await client.get("/")
        session_token = page.text.split('name="csrf" value="')[1].split('"')[0]
        out = await client.post("/logout", data={"csrf": session_token})
        assert (out.status_code, out.headers["location"]) == (303, "/login")


async def test_repeated_failures_lock_the_address_out_and_are_audited(dash: DashboardHub) -> None:
    async with dash.client() as client:
        for _ in range(5):
            refused = await client.post("/login", data={"key": "uh-wrong-key"})
            assert refused.status_code == 401 and "not accepted" in refused.text
        locked = await client.post("/login", data={"key": dash.admin.key})
        assert locked.status_code == 401 and "Too many failed sign-ins" in locked.text
    entries = await dash.running.hub.audit.entries()
    lockouts = [e for e in entries if e.action == "dashboard.lockout"]
    assert len(lockouts) == 1 and lockouts[0].actor == "dashboard:127.0.0.1"


async def test_revoking_the_key_ends_its_session(dash: DashboardHub) -> None:
    async with dash.signed_in(dash.viewer.key) as client:
        assert (await client.get("/usage")).status_code == 200
        await dash.running.hub.keys.revoke(dash.viewer.id)
        assert (await client.get("/usage")).headers["location"] == "/login"


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
async def test_the_exports_equal_the_ledger(dash: DashboardHub, zone: str) -> None:
    first, last = date(2026, 10, 31), date(2026, 11, 20)
    since, until = local_days(first, last, ZoneInfo(zone))
    team_id = dash.running.team.id
    query = {"from": str(first), "to": str(last), "tz": zone}
    async with dash.signed_in(dash.admin.key) as client:
        for group_by, key in (
            ("model", lambda r: r.alias),
            ("slack_channel", lambda r: r.channel if r.connector == "slack" else None),
            ("day", lambda r: r.created_at.astimezone(ZoneInfo(zone)).date().isoformat()),
        ):
            exported = (
                await client.get("/usage.json", params={**query, "group_by": group_by})
            ).json()
            ledger = await dash.ledger(since, until, key, team_id)
            got = {row[group_by]: {k: row[k] for k in SUMS} for row in exported["rows"]}
            assert got == ledger, group_by
            total_micros = sum(g["cost_micros"] for g in ledger.values())
            assert exported["total"]["cost_usd"] == micros_to_usd(total_micros)
            assert all(
                row["cost_usd"] == micros_to_usd(row["cost_micros"]) for row in exported["rows"]
            )
            text = (await client.get("/usage.csv", params={**query, "group_by": group_by})).text
            lines = list(csv.reader(io.StringIO(text)))
            assert lines[0][:5] == [
                group_by,
                "requests",
                "prompt_tokens",
                "completion_tokens",
                "cost_usd",
            ]
            assert lines[-1][0] == "total" and float(lines[-1][4]) == micros_to_usd(total_micros)
            assert len(lines) == len(ledger) + 2
            page = await client.get("/usage", params={**query, "group_by": group_by})
            assert (
                f'data-total="requests">{sum(g["requests"] for g in ledger.values()):,}<'
                in page.text
            )


async def test_another_teams_data_is_not_found(dash: DashboardHub) -> None:
    async with dash.signed_in(dash.viewer.key) as client:
        for path in ("/usage", "/usage.json", "/usage.csv"):
            response = await client.get(path, params={"group_by": "model", "team": "globex"})
            assert response.status_code == 404, path
        response = await client.get("/usage.json", params={"key": str(dash.other.id)})
        assert response.status_code == 404
        mine = (
            await client.get("/usage.json", params={"group_by": "team", "from": "2026-11-01"})
        ).json()
        assert [row["team"] for row in mine["rows"]] == ["acme"]
    async with dash.signed_in(OPERATOR_KEY) as operator:
        month = {"from": "2026-11-01"}
        theirs = (
            await operator.get(
                "/usage.json", params={"team": "globex", "group_by": "model", **month}
            )
        ).json()
        assert theirs["total"]["cost_usd"] == micros_to_usd(123_456)
        everyone = (await operator.get("/usage.json", params={"group_by": "team", **month})).json()
        assert {row["team"] for row in everyone["rows"]} == {"acme", "globex"}


async def test_a_bad_query_says_which_parameter(dash: DashboardHub) -> None:
    async with dash.signed_in(dash.admin.key) as client:
        response = await client.get("/usage.json", params={"tz": "Mars/Olympus"})
        assert response.status_code == 400 and "timezone" in response.json()["error"]["message"]
        response = await client.get("/usage", params={"group_by": "planet"})
        assert response.status_code == 400 and "group_by" in response.text
        response = await client.get(
            "/usage.json", params={"from": "2026-11-05", "to": "2026-11-01"}
        )
        assert response.status_code == 400


async def test_the_requests_log_shows_only_the_viewers_team(dash: DashboardHub) -> None:
    async with dash.signed_in(dash.viewer.key) as client:
        page = await client.get("/requests")
        assert page.status_code == 200
        assert page.text.count("<tr data-request-id=") == 6 and "globex" not in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
    async with dash.signed_in(OPERATOR_KEY) as operator:
        page = await operator.get("/requests")
        assert page.text.count("<tr data-request-id=") == 7 and "globex" in page.text


async def test_the_requests_log_is_filtered_as_the_explorer_is(dash: DashboardHub) -> None:
    rows = "<tr data-request-id="
    async with dash.signed_in(dash.viewer.key) as client:
        page = await client.get("/requests", params={"model": "gpt-4o"})
        assert page.status_code == 200 and page.text.count(rows) == 3
        assert 'id="f-model" name="model" value="gpt-4o"' in page.text
        page = await client.get("/requests", params={"model": "gpt-4o", "status": "error"})
        assert page.text.count(rows) == 1 and "D1" not in page.text  # Discord's one, no channel
        page = await client.get("/requests", params={"slack_channel": "C2"})
        assert page.text.count(rows) == 1 and "gpt-4o-mini" in page.text
        page = await client.get("/requests", params={"connector": "openai_api"})
        assert page.text.count(rows) == 3
        # Another team's name is not there for a team's viewer, as in the explorer.
        assert (await client.get("/requests", params={"team": "globex"})).status_code == 404
        assert (await client.get("/requests", params={"model": "x" * 201})).status_code == 400
    async with dash.signed_in(OPERATOR_KEY) as operator:
        page = await operator.get("/requests", params={"team": "globex"})
        assert page.text.count(rows) == 1 and 'id="f-team"' in page.text


@pytest.mark.parametrize(
    "where",
    [
        {"model": "gpt-4o"}, {"status": "error"}, {"connector": "slack"},
        {"slack_workspace": "T1"}, {"slack_channel": "C1"}, {"discord_guild": "G1"},
        {"discord_channel": "D1"}, {"discord_channel": "C1"}, {"user": "U1"},
        {"model": "claude", "connector": "openai_api"}, {"deployment": "prov/claude"},
    ],
)  # fmt: skip
async def test_the_live_tails_test_lists_what_the_log_lists(
    dash: DashboardHub, where: dict[str, str]
) -> None:
    """The live tail keeps a committed request when `matches` says so; the page lists what
    the database's conditions select: the two agree on every record."""
    usage = dash.running.hub.usage
    team = UsageFilter(team_id=dash.running.team.id)
    chosen = replace(team, **where)
    every = await usage.recent(where=team, limit=100)
    listed = [r.id for r in await usage.recent(where=chosen, limit=100)]
    assert listed == [r.id for r in every if matches(chosen, r)]
    assert [r.id for r in every if matches(team, r)] == [r.id for r in every]
