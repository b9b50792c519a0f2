"""Keys through the dashboard: created with the secret on that one page only, rotated with a
grace period, restricted to networks and an expiry, revoked; each through hub.keys with the
signed-in key as the audit actor and no secret in the log."""

from __future__ import annotations

import re

import pytest

from hub.errors import Forbidden, KeyRevoked
from tests.connectors.dashboard.admin_support import (
    AdminHub,
    csrf,
    field_error,
    input_value,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")
SECRET = re.compile(r'id="secret" readonly value="(uh-[^"]+)"')


def create_form(token: str, **values: str) -> dict[str, str]:
    return {
        "csrf": token,
        "name": "",
        "role": "member",
        "member": "",
        "expires_at": "",
        "ip_allowlist": "",
    } | values


async def test_a_created_key_is_shown_once_and_works(h: AdminHub) -> None:
    async with h.dash.signed_in(h.dash.admin.key) as client:
        token = await csrf(client, "/team/keys")
        last = await h.last_audit_id()
        created = await client.post(
            "/team/keys",
            data=create_form(
                token,
                name="ci",
                expires_at="2027-01-31T18:30",
                ip_allowlist="10.0.0.0/8\n192.0.2.7",
            ),
        )
        assert created.status_code == 200 and "shown only once" in created.text
        found = SECRET.search(created.text)
        assert found is not None
        secret = found.group(1)
        authenticated = await h.hub.keys.authenticate(secret, client_ip="10.1.2.3")
        row = authenticated.key
        assert (row.name, row.role, f"{row.expires_at:%Y-%m-%d %H:%M}") == (
            "ci",
            "member",
            "2027-01-31 18:30",
        )
        with pytest.raises(Forbidden):  # outside the allowed networks
            await h.hub.keys.authenticate(secret, client_ip="203.0.113.1")
        listing = await client.get("/team/keys")
        detail = await client.get(f"/team/keys/{row.id}")
        for page in (listing, detail):
            assert secret not in page.text and row.prefix in page.text
        assert "10.0.0.0/8" in detail.text and "192.0.2.7/32" in detail.text
    entries = await h.audit_after(last)
    assert [(e.action, e.actor, e.target) for e in entries] == [
        ("key.create", f"key:{h.dash.admin.id}", f"key:{row.id}")
    ]
    # The random part whole: token_urlsafe may hold "_" (split on each, a piece could be "").
    assert secret not in repr(entries) and secret.split("_", 1)[1] not in repr(entries)


async def test_a_key_is_restricted_rotated_and_revoked(h: AdminHub) -> None:
    issued = await h.hub.keys.create(h.dash.running.team, name="bot")
    path = f"/team/keys/{issued.id}"
    async with h.dash.signed_in(h.dash.admin.key) as client:
        token = await csrf(client, path)
        last = await h.last_audit_id()
        saved = await client.post(
            path,
            data={
                "csrf": token,
                "ip_allowlist": "198.51.100.0/24",
                "expires_at": "2026-12-24T08:00",
            },
        )
        assert (saved.status_code, saved.headers["location"]) == (303, path + "?done=updated")
        row = await h.hub.keys.get(issued.id)
        assert row.ip_allowlist == '["198.51.100.0/24"]'
        assert f"{row.expires_at:%Y-%m-%dT%H:%M}" == "2026-12-24T08:00"
        cleared = await client.post(
            path, data={"csrf": token, "ip_allowlist": "", "expires_at": ""}
        )
        assert cleared.status_code == 303
        row = await h.hub.keys.get(issued.id)
        assert row.ip_allowlist is None and row.expires_at is None
        rotated = await client.post(path + "/rotate", data={"csrf": token, "grace": "3600"})
        assert rotated.status_code == 200
        found = SECRET.search(rotated.text)
        assert found is not None and found.group(1) != issued.key
        assert "keeps working until Nov 20, 2026, 1:00\u202fPM UTC" in rotated.text  # NOW + 1 h
        assert (await h.hub.keys.authenticate(issued.key)).key.id == issued.id  # grace
        assert (await h.hub.keys.authenticate(found.group(1))).key.id == issued.id
        revoked = await client.post(path + "/revoke", data={"csrf": token})
        assert (revoked.status_code, revoked.headers["location"]) == (303, path + "?done=revoked")
        with pytest.raises(KeyRevoked):
            await h.hub.keys.authenticate(found.group(1))
        page = await client.get(revoked.headers["location"])
        assert "Key revoked." in page.text and "Rotate key" not in page.text
        again = await client.post(path + "/rotate", data={"csrf": token, "grace": "0"})
        assert again.status_code == 400 and "is revoked" in again.text
    entries = await h.audit_after(last)
    assert [(e.action, e.actor) for e in entries] == [
        (a, f"key:{h.dash.admin.id}")
        for a in ("key.update", "key.update", "key.rotate", "key.revoke")
    ]
    assert entries[0].after is not None and entries[0].after["ip_allowlist"] == ["198.51.100.0/24"]
    assert found.group(1) not in repr(entries)


async def test_bad_key_forms_keep_what_was_typed(h: AdminHub) -> None:
    issued = await h.hub.keys.create(h.dash.running.team, name="typo")
    async with h.dash.signed_in(h.dash.admin.key) as client:
        token = await csrf(client, "/team/keys")
        last = await h.last_audit_id()
        bad_net = await client.post(
            "/team/keys", data=create_form(token, name="ci-2", ip_allowlist="10.0.0.0/33")
        )
        assert bad_net.status_code == 400
        assert "Not a network address" in field_error(bad_net.text, "create-ip_allowlist")
        assert input_value(bad_net.text, "create-name") == "ci-2"
        assert input_value(bad_net.text, "create-ip_allowlist") == "10.0.0.0/33"
        past = await client.post(
            "/team/keys", data=create_form(token, name="old", expires_at="2020-01-01T00:00")
        )
        assert past.status_code == 400 and field_error(past.text, "create-expires_at")
        garbled = await client.post("/team/keys", data=create_form(token, expires_at="soon"))
        assert garbled.status_code == 400 and "Enter a date and time" in garbled.text
        path = f"/team/keys/{issued.id}"
        restrict = await client.post(
            path, data={"csrf": token, "ip_allowlist": "nope", "expires_at": "2027-02-01T00:00"}
        )
        assert restrict.status_code == 400 and field_error(restrict.text, "restrict-ip_allowlist")
        assert input_value(restrict.text, "restrict-expires_at") == "2027-02-01T00:00"
        grace = await client.post(path + "/rotate", data={"csrf": token, "grace": "-5"})
        assert grace.status_code == 400 and field_error(grace.text, "rotate-grace")
    assert await h.audit_after(last) == []


async def test_admin_and_owner_keys_are_an_owners_business(h: AdminHub) -> None:
    team = h.dash.running.team
    async with h.dash.signed_in(h.dash.admin.key) as admin:
        token = await csrf(admin, "/team/keys")
        last = await h.last_audit_id()
        refused = await admin.post("/team/keys", data=create_form(token, name="boss", role="owner"))
        assert refused.status_code == 403 and "Only a team owner" in refused.text
        for action in ("rotate", "revoke"):
            response = await admin.post(
                f"/team/keys/{h.owner.id}/{action}", data={"csrf": token, "grace": "0"}
            )
            assert response.status_code == 403, action
        assert await h.audit_after(last) == []
        # A key may always restrict and rotate itself.
        own = await admin.post(
            f"/team/keys/{h.dash.admin.id}/rotate", data={"csrf": token, "grace": "86400"}
        )
        assert own.status_code == 200 and SECRET.search(own.text) is not None
        assert (await admin.get("/team/keys")).status_code == 200  # same id: still signed in
    async with h.dash.signed_in(h.owner.key) as owner:
        token = await csrf(owner, "/team/keys")
        made = await owner.post("/team/keys", data=create_form(token, name="deputy", role="admin"))
        assert made.status_code == 200
    keys = {row.name: row for row, _ in await h.hub.keys.list(team)}
    assert keys["deputy"].role == "admin" and "boss" not in keys


async def test_a_resent_creation_or_rotation_gets_one_answer(h: AdminHub) -> None:
    team = h.dash.running.team
    async with h.dash.signed_in(h.dash.admin.key) as client:
        page = await client.get("/team/keys")
        token = await csrf(client, "/team/keys")
        once = re.search(r'name="once" value="([^"]+)"', page.text)
        assert once is not None
        form = create_form(token, name="twice", once=once.group(1))
        first = await client.post("/team/keys", data=form)
        assert first.status_code == 200 and SECRET.search(first.text) is not None
        again = await client.post("/team/keys", data=form)  # a reload of the secret's page
        assert again.status_code == 409 and "already sent" in again.text
        assert SECRET.search(again.text) is None
        names = [row.name for row, _ in await h.hub.keys.list(team)]
        assert names.count("twice") == 1
        row = next(row for row, _ in await h.hub.keys.list(team) if row.name == "twice")
        assert f'href="/team/keys/{row.id}"' in again.text
        # A refused form may be sent again with the same token once corrected.
        detail = await client.get(f"/team/keys/{row.id}")
        rotate_once = re.search(r'name="once" value="([^"]+)"', detail.text)
        assert rotate_once is not None
        rotate = {"csrf": token, "once": rotate_once.group(1)}
        refused = await client.post(f"/team/keys/{row.id}/rotate", data=rotate | {"grace": "9"})
        assert refused.status_code == 400
        last = await h.last_audit_id()
        rotated = await client.post(f"/team/keys/{row.id}/rotate", data=rotate | {"grace": "0"})
        assert rotated.status_code == 200
        resent = await client.post(f"/team/keys/{row.id}/rotate", data=rotate | {"grace": "0"})
        assert resent.status_code == 409
    assert [e.action for e in await h.audit_after(last)] == ["key.rotate"]
