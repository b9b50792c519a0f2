"""Isolation matrix: every route of the running app is classified below; a route missing from
the table fails the test, so a new endpoint cannot ship without its cross-team check.

For each admin and key-authenticated route: no credentials -> 401; every key of team A on
team B's resources -> 404 (or 403 for operator-only routes); A's own lists show none of B's
data; and B's whole state (members, keys, limits, bindings, subscriptions, provider keys,
usage, audit) is unchanged afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from standardwebhooks import Webhook

from connectors.admin_api import plugin as admin_api
from connectors.openai_api import plugin as openai_api
from connectors.webhooks import plugin as webhooks
from connectors.zapier import plugin as zapier
from hub.events.subscriptions import Subscriptions
from hub.inbound_hooks import InboundHooks
from tests.connectors.admin_api.state import team_state
from tests.connectors.admin_api.support import API, AdminHub, admin_hub

PUBLIC = "public"  # no credentials, no team data
OWN = "own"  # team-less admin route: a team key sees only its own team
OPERATOR_ONLY = "operator"  # team keys get 403
TEAM = "team"  # under /teams/{team_id}: another team's -> 404
KEY = "key"  # key-authenticated, acts on the key's own team; nothing of B's is reachable
SIGNED = "signed"  # inbound webhook: another hook's secret does not verify -> 401
METRICS = "metrics"  # only the [metrics] bearer token: no team key of any role -> 401


@dataclass(frozen=True)
class Check:
    kind: str
    # A body for team A's own path that names one of B's things (must be refused with 404).
    cross_body: dict[str, Any] | None = None
    cross_status: int = 404


ROUTES: dict[tuple[str, str], Check] = {
    ("GET", "/healthz"): Check(PUBLIC),
    ("GET", "/readyz"): Check(PUBLIC),
    ("GET", "/openapi.json"): Check(PUBLIC),
    ("GET", "/docs"): Check(PUBLIC),
    ("GET", "/metrics"): Check(METRICS),
    ("GET", API + "/me"): Check(OWN),
    ("GET", API + "/teams"): Check(OWN),
    ("POST", API + "/teams"): Check(OPERATOR_ONLY),
    ("GET", API + "/teams/{team_id}"): Check(TEAM),
    ("PATCH", API + "/teams/{team_id}"): Check(TEAM),
    ("GET", API + "/teams/{team_id}/members"): Check(TEAM),
    ("POST", API + "/teams/{team_id}/members"): Check(TEAM),
    ("PATCH", API + "/teams/{team_id}/members/{member_id}"): Check(TEAM),
    ("DELETE", API + "/teams/{team_id}/members/{member_id}"): Check(TEAM),
    ("POST", API + "/teams/{team_id}/members/{member_id}/identities"): Check(TEAM),
    ("GET", API + "/teams/{team_id}/keys"): Check(TEAM),
    ("POST", API + "/teams/{team_id}/keys"): Check(TEAM, {"member_id": "$member"}),
    ("GET", API + "/teams/{team_id}/keys/{key_id}"): Check(TEAM),
    ("PATCH", API + "/teams/{team_id}/keys/{key_id}"): Check(TEAM),
    ("POST", API + "/teams/{team_id}/keys/{key_id}/revoke"): Check(TEAM),
    ("POST", API + "/teams/{team_id}/keys/{key_id}/rotate"): Check(TEAM),
    ("GET", API + "/teams/{team_id}/quotas"): Check(TEAM),
    ("PUT", API + "/teams/{team_id}/quotas"): Check(
        TEAM, {"scope": "member", "scope_id": "$member", "window": "day", "cost_usd": 0}
    ),
    ("GET", API + "/teams/{team_id}/rate-limits"): Check(TEAM),
    ("PUT", API + "/teams/{team_id}/rate-limits"): Check(
        TEAM, {"scope": "key", "scope_id": "$key", "rpm": 1}
    ),
    ("GET", API + "/teams/{team_id}/bindings"): Check(TEAM),
    # Taking a workspace that B holds is a conflict, not a move.
    ("PUT", API + "/teams/{team_id}/bindings/{platform}/{external_id}"): Check(
        TEAM, cross_status=409
    ),
    ("DELETE", API + "/teams/{team_id}/bindings/{platform}/{external_id}"): Check(TEAM),
    ("GET", API + "/teams/{team_id}/subscriptions"): Check(TEAM),
    ("POST", API + "/teams/{team_id}/subscriptions"): Check(TEAM),
    ("DELETE", API + "/teams/{team_id}/subscriptions/{subscription_id}"): Check(TEAM),
    ("GET", API + "/teams/{team_id}/provider-keys"): Check(TEAM),
    ("PUT", API + "/teams/{team_id}/provider-keys/{provider}"): Check(TEAM),
    ("DELETE", API + "/teams/{team_id}/provider-keys/{provider}"): Check(TEAM),
    ("GET", API + "/teams/{team_id}/usage"): Check(TEAM),
    ("GET", API + "/teams/{team_id}/audit"): Check(TEAM),
    ("GET", API + "/deployments"): Check(OPERATOR_ONLY),
    ("GET", API + "/plans"): Check(OWN),
    ("GET", API + "/teams/{team_id}/invoices"): Check(TEAM),
    ("GET", API + "/teams/{team_id}/invoices/{invoice_id}"): Check(TEAM),
    ("GET", API + "/teams/{team_id}/invoices/{invoice_id}/pdf"): Check(TEAM),
    ("GET", API + "/teams/{team_id}/reconciliation"): Check(TEAM),
    ("GET", API + "/teams/{team_id}/billing"): Check(TEAM),
    ("POST", API + "/teams/{team_id}/billing/lift"): Check(TEAM),
    ("GET", API + "/experiments"): Check(OPERATOR_ONLY),
    ("GET", API + "/experiments/{name}/report"): Check(OPERATOR_ONLY),
    ("POST", "/v1/chat/completions"): Check(KEY),
    ("GET", "/v1/models"): Check(KEY),
    ("GET", "/v1/models/{model}"): Check(KEY),
    ("POST", "/v1/embeddings"): Check(KEY),
    ("POST", "/v1/feedback"): Check(KEY),  # a vote on B's answer is a 404
    ("GET", "/zapier/me"): Check(KEY),
    ("POST", "/zapier/actions/ask"): Check(KEY),
    ("POST", "/zapier/hooks"): Check(KEY),
    ("DELETE", "/zapier/hooks/{hook_id}"): Check(KEY),
    ("GET", "/zapier/triggers/{event}/samples"): Check(KEY),
    ("POST", "/hooks/{hook_id}"): Check(SIGNED),
}

# Bodies that would succeed on one's own team, so a refusal is the isolation, not validation.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/teams/{team_id}"): {"member_policy": "members_only"},
    ("POST", "/teams/{team_id}/members"): {"name": "intruder"},
    ("PATCH", "/teams/{team_id}/members/{member_id}"): {"role": "viewer"},
    ("POST", "/teams/{team_id}/members/{member_id}/identities"): {
        "platform": "slack",
        "user": "U-intruder",
    },
    ("POST", "/teams/{team_id}/keys"): {"name": "intruder"},
    ("PATCH", "/teams/{team_id}/keys/{key_id}"): {"ip_allowlist": ["10.0.0.0/8"]},
    ("POST", "/teams/{team_id}/keys/{key_id}/rotate"): {"grace_seconds": 0},
    ("PUT", "/teams/{team_id}/quotas"): {"scope": "team", "window": "day", "cost_usd": 0},
    ("PUT", "/teams/{team_id}/rate-limits"): {"scope": "team", "rpm": 1},
    ("POST", "/teams/{team_id}/subscriptions"): {
        "url": "https://intruder.example/hook",
        "events": ["key.created"],
    },
    ("PUT", "/teams/{team_id}/provider-keys/{provider}"): {"api_key": "sk-intruder"},
    ("POST", "/teams"): {"name": "intruder-team"},
}
CHAT = {"model": "demo", "messages": [{"role": "user", "content": "hello"}]}


@dataclass
class World:
    admin: AdminHub
    ids: dict[str, Any]  # B's path parameters
    markers: list[str]  # strings that only B's data contains
    a_hook_secret: str
    b_hook_id: str
    b_zapier_sub: str
    requests: int = 0
    failures: list[str] = field(default_factory=list)


@pytest_asyncio.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with admin_hub(sqlite_url, plugins=(openai_api, zapier, webhooks, admin_api)) as h:
        hub, b = h.running.hub, h.b
        member = await hub.members.add(b.team, "bob-of-globex")
        subs = Subscriptions.for_hub(hub)
        sub = await subs.create(
            team_id=b.team.id, url="https://localhost/globex/events", events=["key.created"]
        )
        zap = await subs.create(
            team_id=b.team.id,
            url="https://localhost/globex/zap",
            events=["completion.created"],
            source="zapier",
        )
        await hub.bindings.bind("slack", "T-GLOBEX", b.team)
        await hub.provider_keys.set(b.team, "demo", "sk-globex-own")
        await hub.rate_limits.set(
            scope="team", scope_id=b.team.id, team_id=b.team.id, rpm=999, tpm=None
        )
        hooks = InboundHooks.for_hub(hub)
        a_hook = await hooks.create(h.a.team, name="a-hook")
        b_hook = await hooks.create(b.team, name="b-hook")
        async with h.running.client(headers={"Authorization": f"Bearer {b.member.key}"}) as c:
            answer = await c.post("/v1/chat/completions", json=CHAT)
        assert answer.status_code == 200, answer.text
        ((_, draft),) = await hub.billing.invoices.generate("2026-11", teams=[b.team])
        assert draft is not None
        ids = {
            "invoice_id": draft.id,
            "team_id": b.team.id,
            "member_id": member.id,
            "key_id": b.admin.id,
            "platform": "slack",
            "external_id": "T-GLOBEX",
            "subscription_id": sub.id,
            "provider": "demo",
            "$member": member.id,
            "$key": b.admin.id,
            "$response": answer.json()["id"],
            "name": "no-such-experiment",
        }
        markers = [
            "globex",
            *(k.prefix for k in (b.owner, b.admin, b.viewer, b.member)),
            sub.id,
            zap.id,
            b_hook.hook.id,
            answer.json()["id"],
        ]
        yield World(h, ids, markers, a_hook.secret, b_hook.hook.id, zap.id)


def app_routes(world: World) -> set[tuple[str, str]]:
    runner = world.admin.running.runner
    assert runner is not None
    found = set()
    for route in runner.app.router.routes():
        if route.method in ("HEAD", "*"):
            continue  # aiohttp's automatic twin of a GET; the /v1 catch-all answers only errors
        found.add((route.method, route.resource.canonical if route.resource else ""))
    return found


def fill(path: str, ids: dict[str, Any], **override: Any) -> str:
    values = ids | override
    for name in ("team_id", "member_id", "key_id", "platform", "external_id", "name"):
        path = path.replace("{" + name + "}", str(values[name]))
    for name in ("subscription_id", "provider", "invoice_id"):
        path = path.replace("{" + name + "}", str(values[name]))
    return path


def resolve(body: dict[str, Any] | None, ids: dict[str, Any]) -> dict[str, Any] | None:
    if body is None:
        return None
    return {k: ids[v] if isinstance(v, str) and v.startswith("$") else v for k, v in body.items()}


async def probe(
    world: World,
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    expect: set[int],
    body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    response = await client.request(method, url, json=body, **kwargs)
    world.requests += 1
    sent = url + repr(body) + repr(kwargs)
    leaked = [m for m in world.markers if m in response.text and m not in sent]
    if response.status_code not in expect or leaked:
        world.failures.append(
            f"{method} {url} -> {response.status_code} (want {sorted(expect)}), "
            f"leaked {leaked}: {response.text[:200]}"
        )
    return response


# Hundreds of requests over every route: minutes, not seconds, on a busy 2-core machine.
@pytest.mark.timeout(240)
async def test_every_route_is_classified_and_isolated(world: World) -> None:
    found = app_routes(world)
    assert sorted(found - set(ROUTES)) == [], "routes without an isolation check"
    assert sorted(set(ROUTES) - found) == [], "checks for routes that no longer exist"
    h, ids = world.admin, world.ids
    before = await team_state(h.running.hub, h.b.team)
    a_keys = [h.a.owner, h.a.admin, h.a.viewer, h.a.member]

    for (method, path), check in sorted(ROUTES.items()):
        relative = path.removeprefix(API)
        body = BODIES.get((method, relative), CHAT if path.endswith("completions") else None)
        if check.kind == PUBLIC:
            continue
        if check.kind in (OWN, OPERATOR_ONLY, TEAM):
            async with h.client(None) as anonymous:
                await probe(world, anonymous, method, fill(path, ids), expect={401}, body=body)
            for key in a_keys:
                async with h.client(key.key) as c:
                    if check.kind == TEAM:
                        await probe(world, c, method, fill(path, ids), expect={404}, body=body)
                    elif check.kind == OPERATOR_ONLY:
                        await probe(world, c, method, fill(path, ids), expect={403}, body=body)
                    else:  # every role reads its own team (roles include the ones below)
                        await probe(world, c, method, path, expect={200})
            if check.kind == TEAM:
                await cross_probe(world, method, path, check, body)
        elif check.kind == KEY:
            await key_probe(world, method, path, body)
        elif check.kind == SIGNED:
            await signed_probe(world, path)
        elif check.kind == METRICS:
            for key in [None, *(k.key for k in a_keys)]:
                async with h.client(key) as c:
                    await probe(world, c, method, path, expect={401})
    assert world.failures == []
    assert await team_state(h.running.hub, h.b.team) == before
    assert world.requests > 150


async def cross_probe(
    world: World, method: str, path: str, check: Check, body: dict[str, Any] | None
) -> None:
    """Team A's own path, naming B's member, key, binding, subscription in path or body."""
    h, ids = world.admin, world.ids
    own = fill(path, ids, team_id=h.a.team.id)
    names_b = any(
        p in path for p in ("member_id", "key_id", "external_id", "subscription_id", "invoice_id")
    )
    async with h.client(h.a.owner.key) as c:
        if names_b:
            await probe(world, c, method, own, expect={check.cross_status}, body=body)
        if check.cross_body is not None:
            await probe(world, c, method, own, expect={404}, body=resolve(check.cross_body, ids))
        if method == "GET" and not names_b:
            await probe(world, c, method, own, expect={200})
        if path.endswith("/usage"):
            await probe(world, c, "GET", own, expect={404}, params={"member_id": ids["member_id"]})


async def key_probe(world: World, method: str, path: str, body: dict[str, Any] | None) -> None:
    h = world.admin
    zapier = path.startswith("/zapier")
    url = path.replace("{hook_id}", world.b_zapier_sub).replace("{event}", "new_completion")
    url = url.replace("{model}", "demo")
    if path == "/zapier/hooks":
        body = {"event": "new_completion", "target_url": "https://localhost/acme/zap"}
    if path == "/zapier/actions/ask":
        body = {"prompt": "hello"}
    if path == "/v1/embeddings":
        body = {"model": "demo", "input": "hello"}
    if path == "/v1/feedback":
        body = {"response_id": world.ids["$response"], "rating": 1}

    def client(key: str | None) -> httpx.AsyncClient:
        if key is None:
            return h.running.client()
        header = {"X-API-Key": key} if zapier else {"Authorization": f"Bearer {key}"}
        return h.running.client(headers=header)

    async with client(None) as anonymous:
        await probe(world, anonymous, method, url, expect={401}, body=body)
    async with client(h.a.member.key) as c:
        if "{hook_id}" in path or path == "/v1/feedback":
            await probe(world, c, method, url, expect={404}, body=body)
        elif path == "/v1/embeddings":  # authenticated; the demo deployment embeds nothing
            await probe(world, c, method, url, expect={400}, body=body)
        else:
            await probe(world, c, method, url, expect={200, 201}, body=body)


async def signed_probe(world: World, path: str) -> None:
    """B's hook, signed with A's hook secret: refused before anything is read or spent."""
    raw = b'{"input": "hello"}'
    url = path.replace("{hook_id}", world.b_hook_id)
    clock = world.admin.running.clock
    now = clock.now()
    headers = {
        "webhook-id": "msg_cross",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(world.a_hook_secret).sign("msg_cross", now, raw.decode()),
    }
    async with world.admin.running.client() as c:
        unsigned = await c.post(url, content=raw, headers={"Content-Type": "application/json"})
        crossed = await c.post(
            url, content=raw, headers=headers | {"Content-Type": "application/json"}
        )
    world.requests += 2
    assert (unsigned.status_code, crossed.status_code) == (401, 401), crossed.text
