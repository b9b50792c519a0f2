"""API keys authenticated from memory (#14.2): no database read on a hit, every change the
hub makes seen at once (in this process, in another hub through Redis, in a real `hub serve`
through Redis), the TTL as the bound otherwise, last_used_at written off the request path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from hub.clock import FakeClock
from hub.errors import AuthError, Forbidden, KeyExpired, KeyRevoked
from hub.ledger.key_cache import CHANNEL
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import (
    RunningHub,
    model_config,
    openai_provider_config,
    start_hub,
)
from tests.support.processes import HubProcess
from tests.support.services import REDIS_URL
from tests.support.statements import Statements
from tests.support.two_hubs import TwoHubs


@pytest.fixture
async def running(sqlite_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub({}, database_url=sqlite_url)  # [security] key_cache_s = 5
    try:
        yield hub
    finally:
        await hub.close()


async def test_a_second_authentication_reads_nothing(
    running: RunningHub, statements: Statements
) -> None:
    first = await running.hub.keys.authenticate(running.key.key)
    second = await running.hub.keys.authenticate(running.key.key)
    assert first.caller == second.caller
    assert first.caller.team_name == "acme" and first.caller.key_id == running.key.id
    assert len(statements.touching("api_keys")) == 1


async def test_the_ttl_bounds_a_change_the_hub_did_not_make(
    running: RunningHub, statements: Statements
) -> None:
    await running.hub.keys.authenticate(running.key.key)
    async with running.hub.engine.begin() as conn:  # another tool, behind the hub's back
        await conn.execute(text("UPDATE api_keys SET revoked_at = '2026-11-15 12:00:00'"))
    await running.hub.keys.authenticate(running.key.key)  # still cached
    assert isinstance(running.clock, FakeClock)
    running.clock.advance(5.01)
    with pytest.raises(KeyRevoked):
        await running.hub.keys.authenticate(running.key.key)


async def test_revoke_rotate_and_restrict_apply_at_once(running: RunningHub) -> None:
    keys = running.hub.keys
    await keys.authenticate(running.key.key)
    await keys.update(running.key.id, ip_allowlist=["10.0.0.0/8"])
    with pytest.raises(Forbidden):
        await keys.authenticate(running.key.key, client_ip="192.0.2.1")
    assert (await keys.authenticate(running.key.key, client_ip="10.1.2.3")).caller.key_id

    rotated = await keys.rotate(running.key.id, grace=timedelta(0))
    with pytest.raises(AuthError, match="Invalid API key"):  # no grace: the old hash is gone
        await keys.authenticate(running.key.key, client_ip="10.1.2.3")
    await keys.authenticate(rotated.key, client_ip="10.1.2.3")

    await keys.revoke(running.key.id)
    with pytest.raises(KeyRevoked):
        await keys.authenticate(rotated.key, client_ip="10.1.2.3")


async def test_time_is_checked_on_every_hit(running: RunningHub, statements: Statements) -> None:
    assert isinstance(running.clock, FakeClock)
    soon = await running.hub.keys.create(
        running.team, expires_at=running.clock.now() + timedelta(seconds=2)
    )
    await running.hub.keys.authenticate(soon.key)
    rotated = await running.hub.keys.rotate(running.key.id, grace=timedelta(seconds=2))
    await running.hub.keys.authenticate(running.key.key)  # the old secret, in its grace
    await running.hub.keys.authenticate(rotated.key)
    reads = len(statements.touching("FROM api_keys JOIN"))
    running.clock.advance(3)  # past both, within the cache's 5 s
    with pytest.raises(KeyExpired, match="expired on"):
        await running.hub.keys.authenticate(soon.key)
    with pytest.raises(KeyExpired, match="was rotated"):
        await running.hub.keys.authenticate(running.key.key)
    assert len(statements.touching("FROM api_keys JOIN")) == reads


async def test_removing_a_member_drops_their_keys_from_memory(running: RunningHub) -> None:
    member = await running.hub.members.add(running.team, "ana")
    issued = await running.hub.keys.create(running.team, member_id=member.id)
    assert (await running.hub.keys.authenticate(issued.key)).caller.member_id == member.id
    await running.hub.members.remove(member)
    assert (await running.hub.keys.authenticate(issued.key)).caller.member_id is None


async def test_unknown_secrets_are_not_remembered(running: RunningHub) -> None:
    for n in range(50):
        with pytest.raises(AuthError):
            await running.hub.keys.authenticate(f"uh-00000000_{n:043d}")
    assert len(running.hub.keys.cache) == 0


async def test_last_used_at_is_written_later_in_one_batch(
    running: RunningHub, statements: Statements
) -> None:
    other = await running.hub.keys.create(running.team)
    for _ in range(3):
        await running.hub.keys.authenticate(running.key.key)
        await running.hub.keys.authenticate(other.key)
    assert statements.touching("UPDATE api_keys") == []  # nothing on the request path
    await running.hub.keys.usage.flush()
    assert len(statements.touching("UPDATE api_keys")) == 1  # one executemany for both
    used = {row.id: row.last_used_at for row, _ in await running.hub.keys.list()}
    assert used == {running.key.id: running.clock.now(), other.id: running.clock.now()}
    await running.hub.keys.authenticate(running.key.key)
    await running.hub.keys.usage.flush()
    assert len(statements.touching("UPDATE api_keys")) == 1  # at most once a minute per key


@pytest.mark.redis
async def test_a_revoke_in_one_hub_reaches_another_through_redis(
    two_hubs: Callable[..., Awaitable[TwoHubs]],
) -> None:
    hubs = await two_hubs({})
    first = hubs.first
    await hubs.second.keys.authenticate(first.key.key)  # cached in the second hub
    await hubs.after_signal(CHANNEL, first.hub.keys.revoke(first.key.id))
    with pytest.raises(KeyRevoked):
        await hubs.second.keys.authenticate(first.key.key)


@pytest.mark.redis
@pytest.mark.timeout(180)  # `hub serve` starting on a loaded 2-core machine takes its time
async def test_a_revoke_reaches_a_running_hub_serve_at_once(
    fake_openai: FakeOpenAI, tmp_path: Path, prefix: str
) -> None:
    fake_openai.default = reply("ok", prompt_tokens=3, completion_tokens=1)
    database = f"sqlite+aiosqlite:///{tmp_path}/hub.db"
    redis = {"url": REDIS_URL, "key_prefix": prefix}
    setup = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake_openai.base_url)},
            "models": {"gpt": model_config(("up", "m", 1.0, 1.0))},
            "redis": redis,
        },
        database_url=database,
    )
    config = tmp_path / "hub.toml"
    config.write_text(
        f'[database]\nurl = "{database}"\n'
        f'[redis]\nurl = "{REDIS_URL}"\nkey_prefix = "{prefix}"\n'
        "[security]\nkey_cache_s = 300\n"  # only the signal can explain a refusal
        f'[providers.up]\ntype = "openai"\nbase_url = "{fake_openai.base_url}"\n'
        '[models.gpt]\ndeployments = [{ provider = "up", model = "m", '
        "input_usd_per_mtok = 1.0, output_usd_per_mtok = 1.0 }]\n"
    )
    body = {"model": "gpt", "messages": [{"role": "user", "content": "hi"}]}
    headers = {"Authorization": f"Bearer {setup.key.key}"}
    try:
        async with HubProcess(config) as process, httpx.AsyncClient(timeout=30) as http:
            url = f"{process.base_url}/v1/chat/completions"
            assert (await http.post(url, json=body, headers=headers)).status_code == 200
            await setup.hub.keys.revoke(setup.key.id)
            # Pub/sub reaches the other process when it does (a loaded machine takes its
            # time): wait for the proof that it dropped the key, a refusal on /v1/models,
            # which authenticates through the same cache but never reaches the upstream.
            # With a 300 s TTL only the signal explains a refusal within the bound.
            models = f"{process.base_url}/v1/models"
            async with asyncio.timeout(60):
                while (await http.get(models, headers=headers)).status_code == 200:
                    pass
            refused = await http.post(url, json=body, headers=headers)
    finally:
        await setup.close()
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "key_revoked"
    assert len(fake_openai.requests) == 1  # only the answer before the revoke went upstream


async def test_renaming_or_archiving_the_team_applies_at_once(running: RunningHub) -> None:
    await running.hub.keys.authenticate(running.key.key)
    renamed = await running.hub.teams.rename(running.team, "acme-2")
    assert (await running.hub.keys.authenticate(running.key.key)).caller.team_name == "acme-2"
    await running.hub.teams.archive(renamed)
    with pytest.raises(KeyRevoked):
        await running.hub.keys.authenticate(running.key.key)


async def test_concurrent_authentications_of_a_lapsed_key_read_it_once(
    running: RunningHub, statements: Statements
) -> None:
    await running.hub.keys.authenticate(running.key.key)
    assert isinstance(running.clock, FakeClock)
    running.clock.advance(5.01)  # lapsed: the next ones must read it again, together
    found = await asyncio.gather(
        *(running.hub.keys.authenticate(running.key.key) for _ in range(16))
    )
    assert {f.caller.key_id for f in found} == {running.key.id}
    assert len(statements.touching("api_keys")) == 2
