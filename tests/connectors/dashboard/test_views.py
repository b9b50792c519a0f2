"""Saved views: the explorer's URL state saved under a name for the team, listed, opened (the
same rows as the explorer), replaced by name, deleted; audited with the signed-in key as the
actor; viewers may open but not change them; another team's view is not found."""

from __future__ import annotations

from urllib.parse import parse_qsl

import httpx

from tests.connectors.dashboard.support import OPERATOR_KEY, DashboardHub

EXPLORED = {"group_by": "model,day", "from": "2026-11-01", "to": "2026-11-20",
            "tz": "Asia/Kolkata", "model": "gpt-4o", "metric": "requests"}  # fmt: skip


def hidden(html: str, name: str) -> str:
    return html.split(f'name="{name}" value="')[1].split('"')[0].replace("&amp;", "&")


async def save(client: httpx.AsyncClient, name: str, params: dict[str, str]) -> httpx.Response:
    page = await client.get("/usage", params=params)
    form = page.text.split('action="/usage/views"')[1]
    data = {"csrf": hidden(form, "csrf"), "query": hidden(form, "query"), "name": name}
    return await client.post("/usage/views", data=data)


async def test_a_saved_view_opens_the_explorer_as_it_was(dash: DashboardHub) -> None:
    async with dash.signed_in(dash.admin.key) as client:
        saved = await save(client, "  Kolkata   gpt-4o ", EXPLORED)
        assert saved.status_code == 303 and saved.headers["location"].startswith("/usage/views#")
        listed = await client.get("/usage/views")
        assert "Kolkata gpt-4o" in listed.text and "tz: Asia/Kolkata" in listed.text
        view_id = int(saved.headers["location"].split("#view-")[1])
        opened = await client.get(f"/usage/views/{view_id}")
        assert opened.status_code == 303
        location = opened.headers["location"]
        assert dict(parse_qsl(location.split("?", 1)[1])) == EXPLORED
        direct = await client.get("/usage.json", params=EXPLORED)
        via_view = await client.get("/usage.json?" + location.split("?", 1)[1])
        assert via_view.json() == direct.json() and direct.json()["rows"]
        # The same name again replaces the view.
        again = await save(client, "Kolkata gpt-4o", EXPLORED | {"tz": "UTC"})
        assert again.headers["location"] == saved.headers["location"]
        views = await dash.running.hub.saved_views.list(dash.running.team.id)
        assert [(v.name, dict(parse_qsl(v.query))["tz"]) for v in views] == [
            ("Kolkata gpt-4o", "UTC")
        ]
        page = await client.get("/usage/views")
        token = hidden(page.text, "csrf")
        gone = await client.post(f"/usage/views/{view_id}/delete", data={"csrf": token})
        assert gone.status_code == 303
        assert (await client.get(f"/usage/views/{view_id}")).status_code == 404
    entries = await dash.running.hub.audit.entries(team_id=dash.running.team.id)
    mine = [(e.action, e.actor, e.target) for e in entries if e.action.startswith("view.")]
    actor = f"key:{dash.admin.id}"
    target = f"view:{view_id}"
    assert sorted(mine) == sorted(
        [("view.save", actor, target), ("view.save", actor, target), ("view.delete", actor, target)]
    )


async def test_viewers_open_views_but_cannot_change_them_and_other_teams_see_none(
    dash: DashboardHub,
) -> None:
    async with dash.signed_in(dash.admin.key) as client:
        view_id = int((await save(client, "mine", EXPLORED)).headers["location"].split("-")[-1])
    async with dash.signed_in(dash.viewer.key) as client:
        assert (await client.get(f"/usage/views/{view_id}")).status_code == 303
        page = await client.get("/usage")
        assert 'action="/usage/views"' not in page.text  # no save form for a viewer
        token = hidden(page.text, "csrf")
        refused = await client.post("/usage/views", data={"csrf": token, "name": "x",
                                                          "query": "group_by=model"})  # fmt: skip
        assert refused.status_code == 403
        deleting = await client.post(f"/usage/views/{view_id}/delete", data={"csrf": token})
        assert deleting.status_code == 403
    async with dash.signed_in(dash.other.key) as client:
        assert (await client.get(f"/usage/views/{view_id}")).status_code == 404
        assert "mine" not in (await client.get("/usage/views")).text
        token = hidden((await client.get("/usage/views")).text, "csrf")
        deleting = await client.post(f"/usage/views/{view_id}/delete", data={"csrf": token})
        assert deleting.status_code == 404
        foreign = await client.post("/usage/views", data={
            "csrf": token, "name": "x", "query": "group_by=model&team=acme"})  # fmt: skip
        assert foreign.status_code == 404
    async with dash.signed_in(OPERATOR_KEY) as client:
        listed = await client.get("/usage/views")
        assert "<td>acme</td>" in listed.text
        opened = await client.get(f"/usage/views/{view_id}")
        assert dict(parse_qsl(opened.headers["location"].split("?", 1)[1]))["team"] == "acme"
        token = hidden(listed.text, "csrf")
        teamless = await client.post("/usage/views", data={"csrf": token, "name": "x",
                                                           "query": "group_by=model"})  # fmt: skip
        assert teamless.status_code == 400 and "Filter by a team first" in teamless.text
    assert len(await dash.running.hub.saved_views.list(None)) == 1
