"""Every admin action through the API is in the audit log exactly once, with its actor; and
secrets (key secrets and hashes, provider keys, subscription secrets) appear nowhere, in the
audit log or in any answer, except the one answer that creates them."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hub.ledger.keys import hash_secret
from tests.connectors.admin_api.support import API, AdminHub, admin_hub


async def test_every_action_is_audited_once_with_its_actor_and_no_secret(sqlite_url: str) -> None:
    async with admin_hub(sqlite_url) as h:
        await run_script(h)


async def run_script(h: AdminHub) -> None:
    hub, a = h.running.hub, h.a
    team = f"/teams/{a.team.id}"
    operator, owner = "operator:config", f"key:{a.owner.id}"
    secrets: list[str] = []
    creation_answers: set[int] = set()
    answers: list[tuple[str, str]] = []
    covered: set[tuple[str, str]] = set()
    last = max(e.id for e in await hub.audit.entries())

    async def act(
        key: str, actor: str, method: str, path: str, body: Any, actions: list[str], *, route: str
    ) -> dict[str, Any]:
        nonlocal last
        async with h.client(key) as c:
            response = await c.request(method, API + path, json=body)
        assert response.status_code in (200, 201, 204), (method, path, response.text)
        covered.add((method, API + route))
        answers.append((f"{method} {path}", response.text))
        new = [e for e in await hub.audit.entries() if e.id > last]
        assert [(e.action, e.actor) for e in new] == [(x, actor) for x in actions], (path, new)
        assert all(e.team_id is not None for e in new)
        last = max([last, *(e.id for e in new)])
        return response.json() if response.content else {}

    op_key, own_key = "operator-key-for-tests-0123456789abcdef", a.owner.key
    created = await act(
        op_key,
        operator,
        "POST",
        "/teams",
        {"name": "initech", "monthly_budget_usd": 5},
        ["team.create", "quota.set"],
        route="/teams",
    )
    assert created["name"] == "initech"
    await act(
        own_key,
        owner,
        "PATCH",
        team,
        {"member_policy": "members_only", "notice_channel": {"platform": "slack", "channel": "C1"}},
        ["team.policy", "team.notify"],
        route="/teams/{team_id}",
    )
    member = await act(
        own_key,
        owner,
        "POST",
        f"{team}/members",
        {"name": "ann", "role": "admin"},
        ["member.add"],
        route="/teams/{team_id}/members",
    )
    m = f"{team}/members/{member['id']}"
    await act(
        own_key,
        owner,
        "PATCH",
        m,
        {"role": "member"},
        ["member.role"],
        route="/teams/{team_id}/members/{member_id}",
    )
    await act(
        own_key,
        owner,
        "POST",
        f"{m}/identities",
        {"platform": "slack", "workspace": "T1", "user": "U1"},
        ["member.link"],
        route="/teams/{team_id}/members/{member_id}/identities",
    )
    key = await act(
        op_key,
        operator,
        "POST",
        f"{team}/keys",
        {"name": "ci", "member_id": member["id"]},
        ["key.create"],
        route="/teams/{team_id}/keys",
    )
    secrets.append(key["key"])
    creation_answers.add(len(answers) - 1)
    k = f"{team}/keys/{key['id']}"
    await act(
        own_key,
        owner,
        "PATCH",
        k,
        {"ip_allowlist": ["10.0.0.0/8"], "expires_at": "2030-01-01T00:00:00Z"},
        ["key.update"],
        route="/teams/{team_id}/keys/{key_id}",
    )
    rotated = await act(
        own_key,
        owner,
        "POST",
        f"{k}/rotate",
        {"grace_seconds": 3600},
        ["key.rotate"],
        route="/teams/{team_id}/keys/{key_id}/rotate",
    )
    secrets.append(rotated["key"])
    creation_answers.add(len(answers) - 1)
    await act(
        own_key,
        owner,
        "POST",
        f"{k}/revoke",
        None,
        ["key.revoke"],
        route="/teams/{team_id}/keys/{key_id}/revoke",
    )
    await act(
        own_key,
        owner,
        "PUT",
        f"{team}/quotas",
        {
            "scope": "member",
            "scope_id": member["id"],
            "window": "month",
            "cost_usd": 2.5,
            "tokens": 1000,
        },
        ["quota.set"],
        route="/teams/{team_id}/quotas",
    )
    await act(
        own_key,
        owner,
        "PUT",
        f"{team}/rate-limits",
        {"scope": "key", "scope_id": key["id"], "rpm": 10, "tpm": 5000},
        ["rate_limit.set"],
        route="/teams/{team_id}/rate-limits",
    )
    binding = "/teams/{team_id}/bindings/{platform}/{external_id}"
    await act(
        own_key, owner, "PUT", f"{team}/bindings/discord/G1", None, ["binding.set"], route=binding
    )
    await act(
        own_key,
        owner,
        "DELETE",
        f"{team}/bindings/discord/G1",
        None,
        ["binding.remove"],
        route=binding,
    )
    sub = await act(
        own_key,
        owner,
        "POST",
        f"{team}/subscriptions",
        {"url": "https://localhost/acme/events", "events": ["key.created", "budget.threshold"]},
        ["subscription.create"],
        route="/teams/{team_id}/subscriptions",
    )
    secrets.append(sub["secret"])
    creation_answers.add(len(answers) - 1)
    await act(
        own_key,
        owner,
        "DELETE",
        f"{team}/subscriptions/{sub['id']}",
        None,
        ["subscription.delete"],
        route="/teams/{team_id}/subscriptions/{subscription_id}",
    )
    provider_secret = "sk-acme-own-provider-key-123456"
    secrets.append(provider_secret)
    provider = "/teams/{team_id}/provider-keys/{provider}"
    await act(
        own_key,
        owner,
        "PUT",
        f"{team}/provider-keys/demo",
        {"api_key": provider_secret},
        ["provider_key.set"],
        route=provider,
    )
    await act(
        own_key,
        owner,
        "PUT",
        f"{team}/provider-keys/demo",
        {"api_key": provider_secret},
        ["provider_key.set"],
        route=provider,
    )
    await act(
        own_key,
        owner,
        "DELETE",
        f"{team}/provider-keys/demo",
        None,
        ["provider_key.delete"],
        route=provider,
    )
    await act(own_key, owner, "DELETE", m, None, ["member.remove"],
              route="/teams/{team_id}/members/{member_id}")  # fmt: skip
    await act(op_key, operator, "POST", f"{team}/billing/lift", None, ["team.billing.lift"],
              route="/teams/{team_id}/billing/lift")  # fmt: skip

    # Every mutating admin route of the app is in the script above.
    assert h.running.runner is not None
    mutating = {
        (r.method, r.resource.canonical)
        for r in h.running.runner.app.router.routes()
        if r.resource is not None
        and r.resource.canonical.startswith(API)
        and r.method not in ("GET", "HEAD")
    }
    assert mutating == covered

    # Reading writes nothing, and shows no secret.
    for path in ("/teams", team, f"{team}/members", f"{team}/keys", f"{team}/keys/{key['id']}",
                 f"{team}/quotas", f"{team}/rate-limits", f"{team}/bindings",
                 f"{team}/subscriptions", f"{team}/provider-keys", f"{team}/usage",
                 f"{team}/audit"):  # fmt: skip
        async with h.client(own_key) as c:
            response = await c.get(API + path)
        assert response.status_code == 200, (path, response.text)
        answers.append((f"GET {path}", response.text))
    assert [e for e in await hub.audit.entries() if e.id > last] == []

    forbidden = [*secrets, *map(hash_secret, secrets[:2])]
    forbidden += [hashlib.sha256(s.encode()).hexdigest() for s in secrets[2:]]
    for index, (what, text) in enumerate(answers):
        shown = [s for s in forbidden if s in text]
        if index in creation_answers:
            assert len(shown) == 1, what  # its own secret, once
        else:
            assert shown == [], what
    audit_text = json.dumps([e.as_json() for e in await hub.audit.entries()])
    assert [s for s in forbidden if s in audit_text] == []
    assert '"api_key": "[redacted]"' in audit_text
