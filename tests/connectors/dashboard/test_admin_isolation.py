"""Another team's things are not found (404) through any administration page or form, and
nothing of theirs changes; the operator reaches every team by name."""

from __future__ import annotations

import pytest

from tests.connectors.dashboard.admin_support import AdminHub, csrf
from tests.connectors.dashboard.support import OPERATOR_KEY

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_another_teams_objects_are_not_found(h: AdminHub) -> None:
    hub, other = h.hub, h.dash.other_team
    theirs = await hub.members.add(other, "gwen", role="member")
    their_key = h.dash.other.id
    reads = [
        "/team/members?team=globex",
        "/team/keys?team=globex",
        "/team/audit?team=globex",
        f"/team/keys/{their_key}",
        "/team/keys/99999999",
        "/team/keys/99999999999999999999",
    ]
    writes = [
        ("/team/members?team=globex", {"name": "mallory", "role": "member"}),
        (f"/team/members/{theirs.id}/role", {"role": "viewer"}),
        (f"/team/members/{theirs.id}/remove", {}),
        ("/team/members/link", {"member": str(theirs.id), "platform": "slack", "user": "U9"}),
        ("/team/keys", {"name": "x", "role": "member", "member": str(theirs.id)}),
        (f"/team/keys/{their_key}", {"ip_allowlist": "10.0.0.0/8", "expires_at": ""}),
        (f"/team/keys/{their_key}/rotate", {"grace": "0"}),
        (f"/team/keys/{their_key}/revoke", {}),
    ]
    last = await h.last_audit_id()
    async with h.dash.signed_in(h.dash.admin.key) as client:
        token = await csrf(client, "/team/members")
        for path in reads:
            response = await client.get(path)
            assert response.status_code == 404, path
            assert "globex" not in response.text and "gwen" not in response.text, path
        for path, data in writes:
            response = await client.post(path, data={"csrf": token, **data})
            assert response.status_code == 404, path
    assert await h.audit_after(last) == []
    assert (await hub.keys.get(their_key)).revoked_at is None
    assert (await hub.members.get_by_id(theirs.id)).role == "member"
    async with h.dash.signed_in(OPERATOR_KEY) as operator:
        page = await operator.get(f"/team/keys/{their_key}?team=globex")
        assert page.status_code == 200
        assert (await operator.get(f"/team/keys/{their_key}?team=acme")).status_code == 404
