"""Admin API rules: roles (owners manage admins), credentials (operator key, rotated, revoked,
expired, IP allowlists), refusals naming the field, conflicts, money in dollars."""

from __future__ import annotations

from typing import Any

from connectors.admin_api import plugin as admin_api
from connectors.zapier import plugin as zapier
from tests.connectors.admin_api.support import API, AdminHub, admin_config, admin_hub


async def call(
    h: AdminHub, key: str | None, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    async with h.client(key) as c:
        response = await c.request(method, API + path, json=body)
    return response.status_code, response.json() if response.content else None


async def test_only_owners_grant_or_take_admin_and_owner(sqlite_url: str) -> None:
    async with admin_hub(sqlite_url) as h:
        team, admin, owner = f"/teams/{h.a.team.id}", h.a.admin.key, h.a.owner.key
        status, body = await call(
            h, admin, "POST", f"{team}/members", {"name": "x", "role": "admin"}
        )
        assert (status, body["error"]["code"]) == (403, "forbidden")
        status, plain = await call(h, admin, "POST", f"{team}/members", {"name": "pat"})
        assert (status, plain["role"]) == (201, "member")
        promote = ("PATCH", f"{team}/members/{plain['id']}", {"role": "admin"})
        assert (await call(h, admin, *promote))[0] == 403
        assert (await call(h, owner, *promote))[0] == 200
        demote = ("PATCH", f"{team}/members/{plain['id']}", {"role": "member"})
        assert (await call(h, admin, *demote))[0] == 403  # taking admin is an owner's too
        assert (await call(h, admin, "DELETE", f"{team}/members/{plain['id']}"))[0] == 403
        assert (await call(h, owner, "DELETE", f"{team}/members/{plain['id']}"))[0] == 204
        # Keys: an admin cannot mint, rotate or revoke a stronger key, but can its own.
        assert (await call(h, admin, "POST", f"{team}/keys", {"role": "owner"}))[0] == 403
        assert (await call(h, admin, "POST", f"{team}/keys/{h.a.owner.id}/rotate"))[0] == 403
        assert (await call(h, admin, "POST", f"{team}/keys/{h.a.owner.id}/revoke"))[0] == 403
        assert (await call(h, admin, "POST", f"{team}/keys/{h.a.member.id}/revoke"))[0] == 200
        status, rotated = await call(h, admin, "POST", f"{team}/keys/{h.a.admin.id}/rotate", {})
        assert (status, rotated["id"]) == (201, h.a.admin.id)


async def test_roles_below_admin_read_only(sqlite_url: str) -> None:
    async with admin_hub(sqlite_url) as h:
        team = f"/teams/{h.a.team.id}"
        for key in (h.a.viewer.key, h.a.member.key):
            assert (await call(h, key, "GET", f"{team}/usage"))[0] == 200
            assert (await call(h, key, "GET", f"{team}/audit"))[0] == 200
            status, body = await call(h, key, "GET", f"{team}/keys")
            assert (status, body["error"]["code"]) == (403, "forbidden")
            assert "needs the admin role" in body["error"]["message"]
            assert (await call(h, key, "POST", "/teams", {"name": "x"}))[0] == 403
        # A key never acts above the member who holds it.
        viewer = await h.running.hub.members.add(h.a.team, "vic", role="viewer")
        capped = await h.running.hub.keys.create(h.a.team, role="owner", member_id=viewer.id)
        status, me = await call(h, capped.key, "GET", "/me")
        assert (status, me["role"]) == (200, "viewer")
        assert (await call(h, capped.key, "GET", f"{team}/keys"))[0] == 403


async def test_credentials(sqlite_url: str) -> None:
    async with admin_hub(sqlite_url) as h:
        clock, team = h.running.clock, f"/teams/{h.a.team.id}"
        assert (await call(h, None, "GET", "/me"))[0] == 401
        assert (await call(h, "operator-key-for-tests-wrong", "GET", "/me"))[0] == 401
        async with h.running.client(headers={"Authorization": "Basic abc"}) as c:
            assert (await c.get(API + "/me")).status_code == 401
        status, me = await call(h, "operator-key-for-tests-0123456789abcdef", "GET", "/me")
        assert me == {"kind": "operator", "role": "owner", "team_id": None, "key_id": None}
        # Rotation with grace: both secrets work until the grace ends, then only the new one.
        path = f"{team}/keys/{h.a.admin.id}/rotate"
        status, rotated = await call(h, h.a.owner.key, "POST", path, {"grace_seconds": 600})
        assert status == 201 and rotated["key"] != h.a.admin.key
        assert (await call(h, h.a.admin.key, "GET", "/me"))[0] == 200
        assert (await call(h, rotated["key"], "GET", "/me"))[0] == 200
        clock.advance(601)  # type: ignore[attr-defined]
        status, body = await call(h, h.a.admin.key, "GET", "/me")
        assert (status, body["error"]["code"]) == (401, "key_expired")
        assert "rotated" in body["error"]["message"]
        assert (await call(h, rotated["key"], "GET", "/me"))[0] == 200
        # Revoked and expired keys say which.
        await call(h, h.a.owner.key, "POST", f"{team}/keys/{h.a.viewer.id}/revoke")
        status, body = await call(h, h.a.viewer.key, "GET", "/me")
        assert (status, body["error"]["code"]) == (401, "key_revoked")
        moment = (clock.now().replace(microsecond=0)).isoformat()
        body = {"expires_at": moment}
        assert (await call(h, h.a.owner.key, "PATCH", f"{team}/keys/{h.a.member.id}", body))[
            0
        ] == 200
        status, body = await call(h, h.a.member.key, "GET", "/me")
        assert (status, body["error"]["code"]) == (401, "key_expired")


async def test_ip_allowlist_applies_to_admin_and_zapier(sqlite_url: str) -> None:
    async with admin_hub(sqlite_url, plugins=(admin_api, zapier)) as h:
        team = f"/teams/{h.a.team.id}"
        allow = {"ip_allowlist": ["10.0.0.0/8", "2001:db8::/32"]}
        status, key = await call(h, h.a.owner.key, "PATCH", f"{team}/keys/{h.a.admin.id}", allow)
        assert (status, key["ip_allowlist"]) == (200, ["10.0.0.0/8", "2001:db8::/32"])
        status, body = await call(h, h.a.admin.key, "GET", "/me")
        assert (status, body["error"]["code"]) == (403, "forbidden")
        assert "127.0.0.1" in body["error"]["message"]
        async with h.running.client(headers={"X-API-Key": h.a.admin.key}) as c:
            assert (await c.get("/zapier/me")).status_code == 403
        bad = {"ip_allowlist": ["10.0.0.300/8"]}
        status, body = await call(h, h.a.owner.key, "PATCH", f"{team}/keys/{h.a.admin.id}", bad)
        assert (status, body["error"]["field"]) == (400, "ip_allowlist")
        local = {"ip_allowlist": ["127.0.0.0/8"]}
        await call(h, h.a.owner.key, "PATCH", f"{team}/keys/{h.a.admin.id}", local)
        assert (await call(h, h.a.admin.key, "GET", "/me"))[0] == 200


async def test_refusals_name_the_field_and_conflicts_are_409(sqlite_url: str) -> None:
    async with admin_hub(sqlite_url) as h:
        team, owner = f"/teams/{h.a.team.id}", h.a.owner.key
        async with h.client(owner) as c:
            broken = await c.post(API + f"{team}/members", content=b"{nope")
        assert (broken.status_code, broken.json()["error"]["field"]) == (400, "body")
        for method, path, body, field in (
            ("PUT", "/quotas", {"scope": "team", "window": "day", "cost_usd": -1}, "cost_usd"),
            ("PUT", "/quotas", {"scope": "team", "window": "week"}, "window"),
            ("PUT", "/quotas", {"scope": "member", "window": "day"}, "scope_id"),
            ("PUT", "/rate-limits", {"scope": "team", "rpm": 0}, "rpm"),
            ("POST", "/members", {"name": "x", "colour": "red"}, "colour"),
            ("POST", "/keys", {"expires_at": "soon"}, "expires_at"),
            (
                "POST",
                "/subscriptions",
                {"url": "https://x.example", "events": ["nope"]},
                "events[0]",
            ),
            ("PATCH", "", {"member_policy": "closed"}, "member_policy"),
            ("PUT", "/provider-keys/nope", {"api_key": "sk-x"}, "provider"),
            ("PUT", "/bindings/teams/T1", None, "platform"),
        ):
            status, answer = await call(h, owner, method, team + path, body)
            assert (status, answer["error"]["field"]) == (400, field), (path, answer)
        assert (await call(h, owner, "GET", "/teams/abc"))[1]["error"]["field"] == "team_id"
        assert (await call(h, owner, "POST", f"{team}/members", {"name": "dup"}))[0] == 201
        assert (await call(h, owner, "POST", f"{team}/members", {"name": "dup"}))[0] == 409
        op = "operator-key-for-tests-0123456789abcdef"
        assert (await call(h, op, "POST", "/teams", {"name": "acme"}))[0] == 409
        # A workspace another team holds: a team admin gets 409, the operator may move it.
        b_team = f"/teams/{h.b.team.id}"
        assert (await call(h, h.b.admin.key, "PUT", f"{b_team}/bindings/slack/T9"))[0] == 200
        status, body = await call(h, owner, "PUT", f"{team}/bindings/slack/T9")
        assert (status, body["error"]["code"]) == (409, "conflict")
        assert (await call(h, op, "PUT", f"{team}/bindings/slack/T9"))[0] == 200
        assert await h.running.hub.bindings.list() == [("slack", "T9", "acme")]


async def test_private_subscription_targets_are_refused(sqlite_url: str) -> None:
    config = admin_config() | {"webhooks": {"allow_private_targets": False}}
    async with admin_hub(sqlite_url, config=config) as h:
        path = f"/teams/{h.a.team.id}/subscriptions"
        for url in ("http://127.0.0.1:9/hook", "http://[::1]/hook", "http://10.1.2.3/x"):
            body = {"url": url, "events": ["key.created"]}
            status, answer = await call(h, h.a.admin.key, "POST", path, body)
            assert (status, answer["error"]["field"]) == (400, "url"), url
            assert "only calls public addresses" in answer["error"]["message"]
        assert (await call(h, h.a.admin.key, "GET", path))[1] == {"data": []}


async def test_quotas_limits_and_team_settings(sqlite_url: str) -> None:
    async with admin_hub(sqlite_url) as h:
        hub, team, owner = h.running.hub, f"/teams/{h.a.team.id}", h.a.owner.key
        key_quota = {"scope": "key", "scope_id": h.a.member.id, "window": "month",
                     "cost_usd": 2.5, "tokens": 1_000}  # fmt: skip
        status, quota = await call(h, owner, "PUT", f"{team}/quotas", key_quota)
        assert (status, quota) == (200, key_quota)
        [stored] = await hub.teams.quotas_for("key", h.a.member.id)
        assert (stored.cost_limit_micros, stored.token_limit) == (2_500_000, 1_000)
        team_quota = {"scope": "team", "window": "day", "cost_usd": 0.000001}
        await call(h, owner, "PUT", f"{team}/quotas", team_quota)
        status, listed = await call(h, owner, "GET", f"{team}/quotas")
        assert listed == {
            "data": [
                key_quota,
                {"scope": "team", "scope_id": h.a.team.id, "window": "day", "cost_usd": 1e-06,
                 "tokens": None},
            ]
        }  # fmt: skip
        limit = {"scope": "team", "rpm": 60, "tpm": None}
        status, set_limit = await call(h, owner, "PUT", f"{team}/rate-limits", limit)
        assert set_limit == limit | {"scope_id": h.a.team.id}
        assert (await call(h, owner, "GET", f"{team}/rate-limits"))[1] == {"data": [set_limit]}
        change = {"member_policy": "members_only",
                  "notice_channel": {"platform": "discord", "channel": "123"}}  # fmt: skip
        status, updated = await call(h, owner, "PATCH", team, change)
        assert (updated["member_policy"], updated["notice_channel"]) == (
            "members_only",
            {"platform": "discord", "channel": "123"},
        )
        status, cleared = await call(h, owner, "PATCH", team, {"notice_channel": None})
        assert (status, cleared["notice_channel"]) == (200, None)
