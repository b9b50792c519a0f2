"""Team governance through the running hub: member quotas under concurrency, key rotation,
expiry and revocation, IP allowlists behind trusted proxies, teams' own provider keys, member
policy for platform users, and the audit trail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from hub.audit import Actor, acting_as
from hub.errors import Forbidden
from hub.ledger.teams import QuotaSpec
from hub.model import Caller, ChatOptions, ChatRequest, Message, Origin
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub
from tests.support.logs import LogCapture
from tests.support.records import usage_rows

DEFAULT_UPSTREAM_KEY = "sk-hub-default-upstream"


def config(base_url: str, **extra: object) -> dict[str, object]:
    return {
        "providers": {"up": openai_provider_config(base_url, api_key=DEFAULT_UPSTREAM_KEY)},
        # One token costs 1,000 micro-dollars each way.
        "models": {"gpt": model_config(("up", "m", 1000.0, 1000.0))},
        **extra,
    }


async def ask(http: httpx.AsyncClient, key: str, **headers: str) -> httpx.Response:
    return await http.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}", **headers},
        json={"model": "gpt", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]},
    )


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    fake_openai.default = reply("fine", prompt_tokens=10, completion_tokens=5)
    hub = await start_hub(
        config(fake_openai.base_url, server={"trusted_proxies": ["127.0.0.1/32"]}),
        database_url=sqlite_url,
    )
    await hub.serve()
    try:
        yield hub
    finally:
        await hub.close()


@pytest.mark.postgres
async def test_member_quota_holds_under_100_concurrent_requests(
    fake_openai: FakeOpenAI, postgres_url: str
) -> None:
    fake_openai.default = reply("fine", prompt_tokens=10, completion_tokens=5)  # 15,000 each
    running = await start_hub(
        config(fake_openai.base_url),
        database_url=postgres_url,
        monthly_budget_micros=1000 * 15_000,  # the team could pay for 1,000 of them
    )
    await running.serve()
    try:
        hub = running.hub
        alice = await hub.members.add(running.team, "alice")
        # Alice's quota fits ten actual requests; each reserves its worst case first.
        await hub.teams.set_quota(
            QuotaSpec("member", alice.id, "month", 10 * 15_000, None), team_id=running.team.id
        )
        key = await hub.keys.create(running.team, name="alice", member_id=alice.id)
        async with running.client() as http:
            responses = await asyncio.gather(*(ask(http, key.key) for _ in range(100)))
        statuses = [r.status_code for r in responses]
        assert set(statuses) <= {200, 429}
        refused = next(r for r in responses if r.status_code == 429).json()["error"]["message"]
        assert refused.startswith("You have")
        assert "your monthly budget of $0.15" in refused
        rows = await usage_rows(hub)
        assert len(rows) == statuses.count(200) <= 10
        assert sum(r.cost_micros for r in rows) <= 10 * 15_000
        assert {r.member_id for r in rows} == {alice.id}
    finally:
        await running.close()


async def test_rotated_key_old_secret_works_only_during_grace(running: RunningHub) -> None:
    old = running.key.key
    rotated = await running.hub.keys.rotate(running.key.id, grace=timedelta(hours=24))
    assert rotated.id == running.key.id and rotated.key != old
    async with running.client() as http:
        assert (await ask(http, old)).status_code == 200
        assert (await ask(http, rotated.key)).status_code == 200
        running.clock.advance(24 * 3600 + 1)  # type: ignore[attr-defined]
        late = await ask(http, old)
        assert (await ask(http, rotated.key)).status_code == 200
    assert late.status_code == 401
    assert late.json()["error"]["message"] == (
        f"This API key ({running.key.prefix}) was rotated; its old secret is no longer valid."
    )
    rows = await usage_rows(running.hub)
    assert {r.key_id for r in rows} == {running.key.id}  # same key: limits and budgets carry over


async def test_expired_and_revoked_keys_say_which(running: RunningHub) -> None:
    expiring = await running.hub.keys.create(
        running.team, expires_at=running.clock.now() + timedelta(days=1)
    )
    revoked = await running.hub.keys.create(running.team)
    await running.hub.keys.revoke(revoked.id)
    async with running.client() as http:
        assert (await ask(http, expiring.key)).status_code == 200
        running.clock.advance(2 * 86400)  # type: ignore[attr-defined]
        expired = await ask(http, expiring.key)
        gone = await ask(http, revoked.key)
    assert expired.status_code == gone.status_code == 401
    assert expired.json()["error"] == {
        "message": f"This API key ({expiring.prefix}) expired on 2026-11-16 12:00 UTC.",
        "type": "authentication_error",
        "param": None,
        "code": "key_expired",
    }
    assert gone.json()["error"]["message"] == f"This API key ({revoked.prefix}) was revoked."
    assert gone.json()["error"]["code"] == "key_revoked"


async def test_ip_allowlist_with_and_without_trusted_proxy(
    running: RunningHub, fake_openai: FakeOpenAI, sqlite_url: str
) -> None:
    office = await running.hub.keys.create(
        running.team, ip_allowlist=["10.0.0.0/8", "2001:db8::/32"]
    )
    local = await running.hub.keys.create(running.team, ip_allowlist=["127.0.0.1/32"])
    async with running.client() as http:
        direct = await ask(http, office.key)  # from 127.0.0.1, no forwarding header
        proxied = await ask(http, office.key, **{"X-Forwarded-For": "10.1.2.3"})
        proxied_v6 = await ask(http, office.key, **{"X-Forwarded-For": "2001:db8::7, 127.0.0.1"})
        spoofed = await ask(http, local.key, **{"X-Forwarded-For": "10.9.9.9"})
        plain_local = await ask(http, local.key)
    assert direct.status_code == 403
    assert direct.json()["error"]["message"] == (
        f"This API key ({office.prefix}) may not be used from 127.0.0.1."
    )
    assert proxied.status_code == 200 and proxied_v6.status_code == 200
    assert spoofed.status_code == 403  # the proxy says the client is 10.9.9.9
    assert plain_local.status_code == 200

    # Without trusted proxies the header is anyone's to send, so it is ignored.
    untrusting = await start_hub(
        config(fake_openai.base_url), database_url=sqlite_url.replace("hub.db", "other.db")
    )
    await untrusting.serve()
    try:
        key = await untrusting.hub.keys.create(untrusting.team, ip_allowlist=["10.0.0.0/8"])
        async with untrusting.client() as http:
            forged = await ask(http, key.key, **{"X-Forwarded-For": "10.1.2.3"})
        assert forged.status_code == 403
    finally:
        await untrusting.close()


async def test_team_provider_key_is_used_upstream_and_never_readable(
    running: RunningHub, fake_openai: FakeOpenAI, sqlite_url: str, logs: LogCapture
) -> None:
    own_key = "sk-team-own-key-5f2b8e"
    await running.hub.provider_keys.set(running.team, "up", own_key)
    other = await running.hub.teams.create("globex")
    other_key = await running.hub.keys.create(other)
    async with running.client() as http:
        assert (await ask(http, running.key.key)).status_code == 200
        assert (await ask(http, other_key.key)).status_code == 200
    sent = [r.headers["authorization"] for r in fake_openai.requests]
    assert sent == [f"Bearer {own_key}", f"Bearer {DEFAULT_UPSTREAM_KEY}"]
    database_file = Path(sqlite_url.split("///", 1)[1])
    stored = b"".join(p.read_bytes() for p in database_file.parent.glob("hub.db*"))
    assert own_key.encode() not in stored
    assert own_key not in "\n".join(logs.lines)
    entries = await running.hub.audit.entries(team_id=running.team.id)
    (entry,) = [e for e in entries if e.action == "provider_key.set"]
    assert entry.after == {"api_key": "[redacted]"}


async def test_members_only_policy_refuses_unlinked_platform_users(running: RunningHub) -> None:
    hub = running.hub
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    bob = await hub.members.add(running.team, "bob")
    await hub.members.link(bob, platform="slack", workspace="T1", user="U_BOB")
    await hub.teams.set_policy(running.team, "members_only")

    def request(user: str) -> ChatRequest:
        return ChatRequest(
            caller=caller,
            origin=Origin(connector="slack", user=user, workspace="T1"),
            messages=(Message.text("user", "hi"),),
            options=ChatOptions(max_tokens=20),
        )

    async with hub.chat(request("U_BOB")) as stream:
        await stream.collect()
    assert stream.request.caller.member_id == bob.id
    with pytest.raises(Forbidden, match="Only members of team 'acme' may ask here"):
        async with hub.chat(request("U_STRANGER")) as stream:
            await stream.collect()
    await hub.members.set_role(bob, "viewer")
    with pytest.raises(Forbidden, match=r"\(viewer\) cannot ask"):
        async with hub.chat(request("U_BOB")) as stream:
            await stream.collect()
    (row,) = await usage_rows(hub)
    assert (row.member_id, row.user) == (bob.id, "U_BOB")


async def test_every_admin_change_is_audited_once_with_its_actor(running: RunningHub) -> None:
    hub = running.hub
    with acting_as(Actor("slack", "U_ADMIN")):
        carol = await hub.members.add(running.team, "carol", role="admin")
        await hub.members.set_role(carol, "owner")
        issued = await hub.keys.create(running.team, name="ci")
        await hub.keys.rotate(issued.id, grace=timedelta(hours=1))
        await hub.keys.revoke(issued.id)
        await hub.teams.set_quota(
            QuotaSpec("team", running.team.id, "day", 5_000_000, None), team_id=running.team.id
        )
        await hub.rate_limits.set(
            scope="key", scope_id=issued.id, team_id=running.team.id, rpm=10, tpm=None
        )
        await hub.bindings.bind("slack", "T1", running.team)
        await hub.channels.set("slack", "C1", "gpt", team_id=running.team.id)
        await hub.teams.set_policy(running.team, "members_only")
    entries = [
        e for e in await hub.audit.entries(team_id=running.team.id) if e.actor == "slack:U_ADMIN"
    ]
    assert [e.action for e in entries] == [
        "member.add",
        "member.role",
        "key.create",
        "key.rotate",
        "key.revoke",
        "quota.set",
        "rate_limit.set",
        "binding.set",
        "channel.default_model",
        "team.policy",
    ]
    rotate = entries[3]
    assert rotate.before is not None and rotate.after is not None
    assert issued.key not in str([e.as_json() for e in entries])
    assert entries[1].before == {"role": "admin"} and entries[1].after == {"role": "owner"}
