"""Rate limits: exact across two real hub processes sharing Redis; loud when Redis is gone;
in-process limits for a single hub."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import (
    free_port,
    model_config,
    openai_provider_config,
    start_hub,
)
from tests.support.processes import HubProcess
from tests.support.services import REDIS_URL


def toml_config(*, database_url: str, redis_url: str, prefix: str, upstream: str) -> str:
    return (
        f'[database]\nurl = "{database_url}"\n'
        f'[redis]\nurl = "{redis_url}"\nkey_prefix = "{prefix}"\n'
        f'[providers.up]\ntype = "openai"\nbase_url = "{upstream}"\napi_key = "sk-x"\n'
        '[models.gpt]\ndeployments = [{ provider = "up", model = "m", '
        "input_usd_per_mtok = 1.0, output_usd_per_mtok = 1.0 }]\n"
    )


@pytest.mark.postgres
@pytest.mark.redis
async def test_two_processes_share_one_limit_through_redis(
    fake_openai: FakeOpenAI, postgres_url: str, prefix: str, tmp_path: Path
) -> None:
    fake_openai.default = reply("ok", prompt_tokens=3, completion_tokens=1)
    setup = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake_openai.base_url)},
            "models": {"gpt": model_config(("up", "m", 1.0, 1.0))},
        },
        database_url=postgres_url,
    )
    await setup.hub.rate_limits.set(
        scope="key", scope_id=setup.key.id, team_id=setup.team.id, rpm=10, tpm=None
    )
    await setup.close()
    config = tmp_path / "hub.toml"
    config.write_text(
        toml_config(
            database_url=postgres_url,
            redis_url=REDIS_URL,
            prefix=prefix,
            upstream=fake_openai.base_url,
        )
    )
    async with HubProcess(config) as first, HubProcess(config) as second:
        async with httpx.AsyncClient(timeout=30) as http:

            async def ask(base: str) -> httpx.Response:
                return await http.post(
                    f"{base}/v1/chat/completions",
                    headers={"Authorization": f"Bearer {setup.key.key}"},
                    json={"model": "gpt", "messages": [{"role": "user", "content": "hi"}]},
                )

            responses = await asyncio.gather(
                *(ask((first, second)[i % 2].base_url) for i in range(30))
            )
            ready = await http.get(f"{first.base_url}/readyz")
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 10 and statuses.count(429) == 20
    refused = next(r for r in responses if r.status_code == 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["error"]["message"].startswith(
        "Rate limit reached: this API key may use 10 requests per minute; try again in"
    )
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "schema": "ok", "redis": "ok"},
    }
    assert len(fake_openai.requests) == 10


async def test_unreachable_redis_fails_readiness_and_says_so_at_start(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(
        toml_config(
            database_url=f"sqlite:///{tmp_path}/hub.db",
            redis_url=f"redis://127.0.0.1:{free_port()}/0",
            prefix="unused",
            upstream=fake_openai.base_url,
        )
    )
    setup = await start_hub({}, database_url=f"sqlite+aiosqlite:///{tmp_path}/hub.db")
    await setup.hub.rate_limits.set(
        scope="key", scope_id=setup.key.id, team_id=setup.team.id, rpm=100, tpm=None
    )
    await setup.close()
    async with HubProcess(config) as process:
        async with httpx.AsyncClient(timeout=30) as http:
            ready = await http.get(f"{process.base_url}/readyz")
            refused = await http.post(
                f"{process.base_url}/v1/chat/completions",
                headers={"Authorization": f"Bearer {setup.key.key}"},
                json={"model": "gpt", "messages": [{"role": "user", "content": "hi"}]},
            )
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"].startswith("rate-limit storage unreachable")
    assert "WARNING: redis is not ready: rate-limit storage unreachable" in process.stderr
    # A key with a limit is refused loudly, never admitted without its limit.
    assert refused.status_code == 503
    assert "Rate limits cannot be checked right now" in refused.json()["error"]["message"]
    assert fake_openai.requests == []


async def test_in_process_requests_and_tokens_per_minute(
    fake_openai: FakeOpenAI, sqlite_url: str
) -> None:
    fake_openai.default = reply("ok", prompt_tokens=30, completion_tokens=20)  # 50 tokens each
    running = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake_openai.base_url)},
            "models": {"gpt": model_config(("up", "m", 1.0, 1.0))},
            "rate_limits": {"team_tpm": 120},
        },
        database_url=sqlite_url,
    )
    await running.serve()
    try:
        member = await running.hub.members.add(running.team, "dave")
        key = await running.hub.keys.create(running.team, member_id=member.id)
        await running.hub.rate_limits.set(
            scope="member", scope_id=member.id, team_id=running.team.id, rpm=2, tpm=None
        )
        async with running.client() as http:
            headers = {"Authorization": f"Bearer {key.key}"}
            body = {"model": "gpt", "messages": [{"role": "user", "content": "hi"}]}
            first = [
                await http.post("/v1/chat/completions", headers=headers, json=body)
                for _ in range(3)
            ]
            other = running.key.key  # the team's other key: no member limit, team tpm only
            more = [
                await http.post(
                    "/v1/chat/completions", headers={"Authorization": f"Bearer {other}"}, json=body
                )
                for _ in range(2)
            ]
        assert [r.status_code for r in first] == [200, 200, 429]
        assert (
            first[2]
            .json()["error"]["message"]
            .startswith("Rate limit reached: you may use 2 requests per minute")
        )
        # 100 tokens used of the team's 120 per minute: one more fits, then the window is full.
        assert [r.status_code for r in more] == [200, 429]
        assert "team 'acme' may use 120 tokens per minute" in more[1].json()["error"]["message"]
    finally:
        await running.close()
