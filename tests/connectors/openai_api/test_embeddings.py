"""POST /v1/embeddings through the ledger like a chat: budgets, one usage record per call,
`hub usage --json` counting it; OpenAI-compatible deployments only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest

from hub.ledger.teams import QuotaSpec
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI, error
from tests.support.hubs import (
    SECRET_KEY,
    RunningHub,
    model_config,
    openai_provider_config,
    start_hub,
)
from tests.support.records import usage_rows

HUB = str(Path(sys.executable).with_name("hub"))


@pytest.fixture
async def running(
    fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> AsyncIterator[RunningHub]:
    config = {
        "providers": {
            "up": openai_provider_config(fake_openai.base_url),
            "claude": {"type": "anthropic", "base_url": fake_anthropic.origin, "api_key": "k"},
        },
        # $20 per million input tokens: 2 tokens an input, 40 micro-dollars each.
        "models": {
            "emb": model_config(("up", "text-embedding-3-small", 20.0, 0.0)),
            "claude": model_config(("claude", "claude-haiku-4-5", 1.0, 1.0)),
        },
        "router": {"max_retries": 0},
    }
    hub = await start_hub(config, database_url=f"sqlite+aiosqlite:///{tmp_path}/hub.db")
    hub.extra["db"] = tmp_path / "hub.db"
    await hub.serve()
    try:
        yield hub
    finally:
        await hub.close()


def sdk(running: RunningHub) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key=running.key.key, base_url=running.base_url + "/v1", max_retries=0
    )


async def test_embeddings_pass_through_and_are_accounted_once(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    async with sdk(running) as client:
        one = await client.embeddings.create(model="emb", input="hello", dimensions=3)
        two = await client.embeddings.create(model="emb", input=["a", "b"], user="u-7")
    assert (one.model, len(one.data), one.data[0].embedding) == ("emb", 1, [0.0, 0.2, -0.3])
    assert [d.index for d in two.data] == [0, 1]
    assert fake_openai.requests[0].json == {
        "model": "text-embedding-3-small",
        "input": "hello",
        "dimensions": 3,
        "encoding_format": "base64",  # what openai-python asks for, passed on as it was
    }
    rows = await usage_rows(running.hub)
    assert [(r.prompt_tokens, r.completion_tokens, r.cost_micros, r.status) for r in rows] == [
        (2, 0, 40, "ok"),
        (4, 0, 80, "ok"),
    ]
    assert (rows[1].connector, rows[1].user, rows[1].alias) == ("openai_api", "u-7", "emb")

    # The contract: `hub usage --team T --json` counts them.
    config = Path(running.extra["db"]).with_name("hub.toml")
    config.write_text(
        f'[database]\nurl = "sqlite:///{running.extra["db"]}"\n'
        '[providers.demo]\ntype = "demo"\n[models.demo]\n'
        'deployments = [{ provider = "demo", model = "d", input_usd_per_mtok = 1, '
        "output_usd_per_mtok = 1 }]\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DATABASE_URL"))}
    done = subprocess.run(
        [
            HUB,
            "--config",
            str(config),
            "usage",
            "--team",
            "acme",
            "--json",
            "--since",
            "2026-11-01",
        ],
        env={**env, "HUB_SECRET_KEY": SECRET_KEY},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    usage = json.loads(done.stdout)
    assert (usage["requests"], usage["prompt_tokens"], usage["cost_usd"]) == (2, 6, 0.00012)
    assert (usage["cached_tokens"], usage["reasoning_tokens"]) == (0, 0)


async def test_an_exhausted_budget_refuses_before_the_upstream(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    team = running.team.id
    await running.hub.teams.set_quota(
        QuotaSpec(
            scope="team", scope_id=team, window="month", cost_limit_micros=1, token_limit=None
        ),
        team_id=team,
    )
    async with sdk(running) as client:
        with pytest.raises(openai.RateLimitError) as refused:
            await client.embeddings.create(model="emb", input="x" * 3000)
    assert refused.value.body["code"] == "quota_exceeded"  # type: ignore[index]
    assert fake_openai.requests == []
    assert await usage_rows(running.hub) == []


async def test_upstream_errors_pass_through_and_are_recorded(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(error(400, message="Input too long."))
    async with sdk(running) as client:
        with pytest.raises(openai.BadRequestError) as bad:
            await client.embeddings.create(model="emb", input="hi")
    assert bad.value.message.endswith("Input too long.")
    (row,) = await usage_rows(running.hub)
    assert (row.status, row.cost_micros, row.error_code) == ("error", 0, "provider_bad_request")


async def test_anthropic_aliases_serve_no_embeddings(running: RunningHub) -> None:
    async with sdk(running) as client:
        with pytest.raises(openai.BadRequestError) as bad:
            await client.embeddings.create(model="claude", input="hi")
        with pytest.raises(openai.BadRequestError) as shape:
            await client.embeddings.create(model="emb", input=[])
    assert bad.value.body["param"] == "model"  # type: ignore[index]
    assert "serves no embeddings" in bad.value.message
    assert shape.value.body["param"] == "input"  # type: ignore[index]
