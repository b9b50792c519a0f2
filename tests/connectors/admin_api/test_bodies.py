"""Request bodies, decided by the models in connectors/admin_api/bodies.py, over real HTTP:
a wrong type, a string number, a NUL, an id out of range or an unknown field is a 400 naming
the field and changes nothing; null means "not given" where it always did; dollars become
micro-dollars exactly; moments without a zone are UTC. The served /openapi.json describes each
body with the schema of the model that validates it."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from connectors.admin_api.bodies import BODIES
from connectors.admin_api.plugin import all_endpoints
from tests.connectors.admin_api.state import team_state
from tests.connectors.admin_api.support import API, AdminHub, admin_hub

INT = "must be an integer from"
TEXT = "must be a string of valid Unicode text"


def refusals(h: AdminHub, member_id: int) -> list[tuple[str, str, Any, str, str]]:
    """(method, path below the team, body, field, what the message says)."""
    key, member = f"/keys/{h.a.member.id}", f"/members/{member_id}"
    return [
        ("PUT", "/rate-limits", {"scope": "team", "rpm": True}, "rpm", f"'rpm' {INT} 1 to"),
        ("PUT", "/rate-limits", {"scope": "team", "rpm": "60"}, "rpm", INT),
        ("PUT", "/rate-limits", {"scope": "team", "rpm": 60.0}, "rpm", INT),
        ("PUT", "/rate-limits", {"scope": "team", "tpm": 2**31}, "tpm", "1 to 2147483647"),
        ("PUT", "/rate-limits", {"rpm": 5}, "scope", "'scope' is required"),
        ("PUT", "/rate-limits", {"scope": None}, "scope", "must be one of: team, member, key"),
        ("PUT", "/quotas", {"scope": "key", "scope_id": 2**63, "window": "day"}, "scope_id",
         "1 to 9223372036854775807"),
        ("PUT", "/quotas", {"scope": "key", "scope_id": 0, "window": "day"}, "scope_id", INT),
        ("PUT", "/quotas", {"scope": "team", "window": "day", "tokens": 10**15 + 1}, "tokens",
         "0 to 1000000000000000"),
        ("PUT", "/quotas", {"scope": "team", "window": "day", "cost_usd": "5"}, "cost_usd",
         "must be an amount in US dollars"),
        ("PUT", "/quotas", {"scope": "team", "window": "day", "cost_usd": True}, "cost_usd",
         "US dollars"),
        ("PUT", "/quotas", {"scope": "team", "window": "day", "cost_usd": 1_000_000_000.5},
         "cost_usd", "from 0 to 1000000000 US dollars"),
        ("POST", "/members", {"name": "a\x00b"}, "name", TEXT),
        ("POST", "/members", {"name": ""}, "name", "must be 1 to 200 characters long"),
        ("POST", "/members", {"name": "x", "extra": 1}, "extra",
         "Unknown field 'extra'; known: name, role."),
        ("POST", "/members", {"name": "x", "role": None}, "role", "must be one of: viewer"),
        ("PATCH", member, {}, "role", "'role' is required"),
        ("PATCH", member, {"role": "boss"}, "role", "must be one of: viewer, member, admin"),
        ("PATCH", "", {"member_policy": None}, "member_policy", "open, members_only"),
        ("PATCH", "", {"notice_channel": {"platform": "teams", "channel": "C1"}},
         "notice_channel.platform", "'notice_channel.platform' must be one of: slack"),
        ("PATCH", "", {"notice_channel": {"platform": "slack", "channel": "C1", "x": 1}},
         "notice_channel.x", "known: platform, channel."),
        ("PATCH", "", {"notice_channel": "C1"}, "notice_channel", "must be an object"),
        ("POST", "/keys", {"member_id": True}, "member_id", INT),
        ("POST", "/keys", {"member_id": 2**63}, "member_id", INT),
        ("POST", "/keys", {"expires_at": 1_700_000_000}, "expires_at", "ISO 8601"),
        ("POST", "/keys", {"ip_allowlist": ["10.0.0.0/8", 5]}, "ip_allowlist[1]",
         f"'ip_allowlist[1]' {TEXT}"),
        ("POST", "/keys", {"ip_allowlist": "10.0.0.0/8"}, "ip_allowlist",
         "must be an array of up to 100 strings"),
        ("PATCH", key, {"ip_allowlist": ["10.0.0.0/8\x00"]}, "ip_allowlist[0]", TEXT),
        ("POST", f"{key}/rotate", {"grace_seconds": -1}, "grace_seconds", "0 to 7776000"),
        ("POST", "/subscriptions", {"url": "https://x.example/hook", "events": []}, "events",
         "must be an array of 1 to 20 event types"),
        ("POST", "/subscriptions", {"url": "https://x.example/hook", "events": ["key.made"]},
         "events[0]", "'events[0]' must be one of: completion.created"),
        ("POST", "/subscriptions", {"url": "https://x.example/\x00", "events": ["key.created"]},
         "url", TEXT),
        ("POST", "/subscriptions", {"url": "ftp://x.example", "events": ["key.created"]}, "url",
         "must be an http(s) URL"),
        ("POST", "/subscriptions", {"url": "https://[::1/", "events": ["key.created"]}, "url",
         "http(s) URL"),
        ("PUT", "/provider-keys/demo", {"api_key": ""}, "api_key", "1 to 4000 characters"),
        ("POST", f"{member}/identities", {"platform": "slack"}, "user", "'user' is required"),
        ("POST", f"{member}/identities", {"platform": "slack", "user": "U1", "workspace": 7},
         "workspace", TEXT),
        ("POST", f"{member}/identities", {"platform": "telegram", "user": "U1"}, "platform",
         "must be one of: slack, discord"),
    ]  # fmt: skip


def unused(state: dict[str, Any]) -> dict[str, Any]:
    """The team's state but when its keys were last used (the owner's key made the requests)."""
    return state | {"keys": [k | {"last_used_at": None} for k in state["keys"]]}


async def test_bad_bodies_are_400s_that_name_the_field_and_change_nothing(
    database_url: str,
) -> None:
    """On SQLite and PostgreSQL (which refuses NUL: the model must stop it first)."""
    async with admin_hub(database_url) as h:
        hub, team = h.running.hub, f"{API}/teams/{h.a.team.id}"
        member = await hub.members.add(h.a.team, "pat")
        before = await team_state(hub, h.a.team)
        async with h.client(h.a.owner.key) as c:
            for method, path, body, field, message in refusals(h, member.id):
                answer = await c.request(method, team + path, json=body)
                error = answer.json()["error"]
                assert (answer.status_code, error["code"], error["field"]) == (
                    400,
                    "invalid_request_error",
                    field,
                ), (method, path, body, error)
                assert message in error["message"], (body, error["message"])
            raw = (
                (b'{"name": "\\ud800"}', "name", TEXT),  # a lone surrogate, escaped in JSON
                (b'{"scope": "team", "window": "day", "cost_usd": NaN}', "body", "NaN"),
                (b'{"scope": "team", "window": "day", "cost_usd": Infinity}', "body", "JSON"),
                (b'[{"scope": "team"}]', "body", "must be a JSON object"),
                (b'{"scope": "team", "window": "day"', "body", "not valid JSON"),
            )
            for content, field, message in raw:
                path = team + ("/members" if b"name" in content else "/quotas")
                answer = await c.request("POST" if "members" in path else "PUT", path,
                                         content=content)  # fmt: skip
                error = answer.json()["error"]
                assert (answer.status_code, error["field"]) == (400, field), (content, error)
                assert message in error["message"], (content, error["message"])
        async with h.operator() as c:
            for body, field in (
                ({"name": "x", "monthly_tokens": 1.5}, "monthly_tokens"),
                ({"name": "x", "monthly_budget_usd": -0.01}, "monthly_budget_usd"),
                ({"name": "x" * 101}, "name"),
                ({"monthly_tokens": 5}, "name"),
            ):
                answer = await c.post(API + "/teams", json=body)
                assert (answer.status_code, answer.json()["error"]["field"]) == (400, field)
        assert unused(await team_state(hub, h.a.team)) == unused(before)
        assert [t.name for t in await hub.teams.list()] == ["acme", "globex"]


async def test_null_is_not_given_money_is_exact_and_moments_are_utc(sqlite_url: str) -> None:
    async with admin_hub(sqlite_url) as h:
        hub, clock, team = h.running.hub, h.running.clock, f"{API}/teams/{h.a.team.id}"
        async with h.client(h.a.owner.key) as c:
            nulls = {"name": None, "member_id": None, "expires_at": None, "ip_allowlist": None}
            created = await c.post(team + "/keys", json=nulls)
            assert created.status_code == 201, created.text
            assert (created.json()["name"], created.json()["role"]) == ("", "member")
            assert created.json()["expires_at"] is None
            zoned = await c.patch(
                f"{team}/keys/{created.json()['id']}",
                json={"expires_at": "2030-06-01T12:00:00+02:00"},
            )
            assert zoned.json()["expires_at"] == "2030-06-01T10:00:00+00:00"
            plain = await c.post(team + "/keys", json={"expires_at": "2030-01-01"})
            assert plain.json()["expires_at"] == "2030-01-01T00:00:00+00:00"
            quota = {"scope": "team", "window": "month", "cost_usd": 19.99, "tokens": None}
            assert (await c.put(team + "/quotas", json=quota)).json()["cost_usd"] == 19.99
            day = {"scope": "team", "scope_id": None, "window": "day", "cost_usd": 7}
            assert (await c.put(team + "/quotas", json=day)).status_code == 200
            limits = {"scope": "team", "scope_id": h.a.team.id, "rpm": None, "tpm": 2**31 - 1}
            assert (await c.put(team + "/rate-limits", json=limits)).json()["tpm"] == 2**31 - 1
            rotated = await c.post(f"{team}/keys/{created.json()['id']}/rotate")
            assert rotated.status_code == 201, rotated.text
            link = {"platform": "discord", "user": "42", "workspace": None}
            member = (await c.post(team + "/members", json={"name": "pat"})).json()
            linked = await c.post(f"{team}/members/{member['id']}/identities", json=link)
            assert linked.json()["identities"] == ["discord:42"]
        stored = {
            q.window: q.cost_limit_micros for q in await hub.teams.quotas_for("team", h.a.team.id)
        }
        assert stored == {"month": 19_990_000, "day": 7_000_000}
        row = await hub.keys.get(created.json()["id"])
        assert row.previous_valid_until is not None  # an empty body: the default grace
        assert row.previous_valid_until.replace(tzinfo=UTC) - clock.now() == timedelta(hours=24)


async def test_each_body_is_documented_by_the_model_that_validates_it(sqlite_url: str) -> None:
    async with admin_hub(sqlite_url) as h:
        async with h.running.client() as c:
            document = (await c.get("/openapi.json")).json()
    components = document["components"]["schemas"]
    documented = {}
    for endpoint in all_endpoints():
        operation = document["paths"][endpoint.full_path][endpoint.method.lower()]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if endpoint.body is None:
            assert body is None, endpoint.full_path
            continue
        name = endpoint.body.__name__
        assert body == {"schema": {"$ref": f"#/components/schemas/{name}"}}
        documented[name] = endpoint.body
    assert set(documented.values()) == set(BODIES)
    template = "#/components/schemas/Admin{model}"
    for name, model in documented.items():
        generated = model.model_json_schema(ref_template=template)
        for part, schema in generated.pop("$defs", {}).items():
            assert components["Admin" + part] | {"description": None} == schema | {
                "description": None
            }
        assert components[name] | {"description": None} == generated | {"description": None}
        assert components[name]["additionalProperties"] is False
