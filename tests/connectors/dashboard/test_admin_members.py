"""Members and roles through the dashboard: every change through hub.members with the
signed-in key as the audit actor; bad input drawn again with its message and what was typed;
owner-only roles refused to admins; viewers refused outright."""

from __future__ import annotations

import pytest

from tests.connectors.dashboard.admin_support import (
    AdminHub,
    csrf,
    field_error,
    input_value,
)
from tests.connectors.dashboard.support import OPERATOR_KEY

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def member_named(h: AdminHub, name: str) -> object:
    return await h.hub.members.get(h.dash.running.team, name)


async def test_an_admin_adds_changes_links_and_removes_a_member(h: AdminHub) -> None:
    team = h.dash.running.team
    async with h.dash.signed_in(h.dash.admin.key) as client:
        token = await csrf(client, "/team/members")
        last = await h.last_audit_id()
        added = await client.post(
            "/team/members", data={"csrf": token, "name": "ann", "role": "member"}
        )
        assert (added.status_code, added.headers["location"]) == (303, "/team/members?done=added")
        page = await client.get(added.headers["location"])
        assert "Member added." in page.text and ">ann</th>" in page.text
        ann = await h.hub.members.get(team, "ann")
        base = f"/team/members/{ann.id}"
        assert (
            await client.post(base + "/role", data={"csrf": token, "role": "viewer"})
        ).status_code == 303
        linked = await client.post(
            "/team/members/link",
            data={
                "csrf": token,
                "member": str(ann.id),
                "platform": "slack",
                "workspace": "T1",
                "user": "U0ANN",
            },
        )
        assert linked.status_code == 303
        assert "slack:T1/U0ANN" in (await client.get("/team/members")).text
        policy = await client.post(
            "/team/members/policy", data={"csrf": token, "member_policy": "members_only"}
        )
        assert policy.status_code == 303
        assert (await h.hub.teams.get_by_id(team.id)).member_policy == "members_only"
        await client.post("/team/members/policy", data={"csrf": token, "member_policy": "open"})
        assert (await client.post(base + "/remove", data={"csrf": token})).status_code == 303
        assert ">ann</th>" not in (await client.get("/team/members")).text
    entries = await h.audit_after(last)
    actor = f"key:{h.dash.admin.id}"
    assert [(e.action, e.actor, e.team_id) for e in entries] == [
        (action, actor, team.id)
        for action in (
            "member.add",
            "member.role",
            "member.link",
            "team.policy",
            "team.policy",
            "member.remove",
        )
    ]
    assert entries[1].before == {"role": "member"} and entries[1].after == {"role": "viewer"}


async def test_bad_input_is_drawn_again_with_its_message_and_what_was_typed(h: AdminHub) -> None:
    async with h.dash.signed_in(h.dash.admin.key) as client:
        token = await csrf(client, "/team/members")
        last = await h.last_audit_id()
        empty = await client.post(
            "/team/members", data={"csrf": token, "name": "  ", "role": "viewer"}
        )
        assert empty.status_code == 400
        assert field_error(empty.text, "add-name") == "Fill in this field."
        assert 'aria-invalid="true"' in empty.text
        assert '<option value="viewer" selected>' in empty.text  # the role typed is kept
        await client.post("/team/members", data={"csrf": token, "name": "bob", "role": "member"})
        twice = await client.post(
            "/team/members", data={"csrf": token, "name": "bob", "role": "member"}
        )
        assert twice.status_code == 400 and input_value(twice.text, "add-name") == "bob"
        assert "already has a member" in field_error(twice.text, "add-name")
        odd = await client.post(
            "/team/members", data={"csrf": token, "name": "x", "role": "emperor"}
        )
        assert odd.status_code == 400 and field_error(odd.text, "add-role")
        bob = await h.hub.members.get(h.dash.running.team, "bob")
        unlinked = await client.post(
            "/team/members/link",
            data={
                "csrf": token,
                "member": str(bob.id),
                "platform": "slack",
                "workspace": "",
                "user": "",
            },
        )
        assert unlinked.status_code == 400 and field_error(unlinked.text, "link-user")
        await h.hub.members.remove(bob)
    assert [e.action for e in await h.audit_after(last)] == ["member.add", "member.remove"]


async def test_only_an_owner_grants_or_takes_admin_roles(h: AdminHub) -> None:
    team = h.dash.running.team
    async with h.dash.signed_in(h.dash.admin.key) as admin:
        token = await csrf(admin, "/team/members")
        refused = await admin.post(
            "/team/members", data={"csrf": token, "name": "cat", "role": "admin"}
        )
        assert refused.status_code == 403 and "Only a team owner" in refused.text
        assert input_value(refused.text, "add-name") == "cat"
    async with h.dash.signed_in(h.owner.key) as owner:
        token = await csrf(owner, "/team/members")
        last = await h.last_audit_id()
        made = await owner.post(
            "/team/members", data={"csrf": token, "name": "cat", "role": "admin"}
        )
        assert made.status_code == 303
    cat = await h.hub.members.get(team, "cat")
    assert [(e.action, e.actor) for e in await h.audit_after(last)] == [
        ("member.add", f"key:{h.owner.id}")
    ]
    async with h.dash.signed_in(h.dash.admin.key) as admin:
        token = await csrf(admin, "/team/members")
        for path, data in (
            (f"/team/members/{cat.id}/role", {"role": "member"}),
            (f"/team/members/{cat.id}/remove", {}),
        ):
            response = await admin.post(path, data={"csrf": token, **data})
            assert response.status_code == 403 and "Only a team owner" in response.text
    assert (await h.hub.members.get(team, "cat")).role == "admin"
    async with h.dash.signed_in(OPERATOR_KEY) as operator:
        token = await csrf(operator, "/team/members?team=acme")
        last = await h.last_audit_id()
        gone = await operator.post(f"/team/members/{cat.id}/remove?team=acme", data={"csrf": token})
        assert (gone.status_code, gone.headers["location"]) == (
            303,
            "/team/members?team=acme&done=removed",
        )
    assert [(e.action, e.actor) for e in await h.audit_after(last)] == [
        ("member.remove", "operator:dashboard")
    ]


async def test_viewers_and_stale_forms_change_nothing(h: AdminHub) -> None:
    last = await h.last_audit_id()
    async with h.dash.signed_in(h.dash.viewer.key) as viewer:
        overview = await viewer.get("/")
        assert 'href="/team"' not in overview.text  # no Team entry for a viewer
        assert (await viewer.get("/team/members")).status_code == 403
        token = await csrf(viewer, "/")
        refused = await viewer.post(
            "/team/members", data={"csrf": token, "name": "eve", "role": "member"}
        )
        assert refused.status_code == 403 and "may see this team" in refused.text
    async with h.dash.signed_in(h.dash.admin.key) as admin:
        assert 'href="/team"' in (await admin.get("/")).text
        stale = await admin.post(
            "/team/members", data={"csrf": "old", "name": "eve", "role": "member"}
        )
        assert stale.status_code == 403 and "expired" in stale.text
    async with h.dash.client() as anonymous:
        response = await anonymous.post("/team/members", data={"name": "eve", "role": "member"})
        assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert await h.audit_after(last) == []


async def test_the_operator_picks_a_team(h: AdminHub) -> None:
    async with h.dash.signed_in(OPERATOR_KEY) as operator:
        pick = await operator.get("/team")
        assert pick.status_code == 200 and "Choose a team" in pick.text
        assert 'href="/team?team=globex"' in pick.text
        theirs = await operator.get("/team/members?team=globex")
        assert theirs.status_code == 200 and '<option value="globex" selected>' in theirs.text
        assert (await operator.get("/team/members?team=nobody")).status_code == 404
