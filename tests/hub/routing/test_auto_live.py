"""strategy = "auto" through the hub: a simple prompt answers from the simple tier, code and
reasoning prompts from the strong tiers, and the usage record says so (routed_by, requested
alias, counterfactual cost on the strongest tier's first deployment)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hub.clock import FakeClock
from hub.model import Caller, ChatRequest, ChatResult, Message, Origin
from tests.fakes.openai_server import FakeOpenAI
from tests.support.hubs import RunningHub, openai_provider_config, start_hub
from tests.support.records import usage_rows

CODE = (
    "Refactor this code so it streams instead of loading everything:\n```js\n"
    "const rows = await db.query('SELECT * FROM events');\nfunction total() { return "
    "rows.reduce((a, r) => a + r.value, 0); }\nexport default total;\n```\nThen add "
    "tests for the edge cases and explain the memory complexity in O() terms."
)
PROOF = (
    "Prove that the square root of 2 is irrational, step by step, and justify each step formally."
)


def deployment(model: str, price: float) -> dict[str, Any]:
    return {
        "provider": "up",
        "model": model,
        "input_usd_per_mtok": price,
        "output_usd_per_mtok": price,
    }


def config(base_url: str) -> dict[str, Any]:
    return {
        "providers": {"up": openai_provider_config(base_url)},
        "router": {"backoff_base_s": 0.01, "backoff_max_s": 0.05, "max_retries": 0},
        "models": {
            "cheap": {"deployments": [deployment("mini", 1.0)]},
            "strong": {"deployments": [deployment("big", 10.0)]},
            "reasoner": {"deployments": [deployment("thinker", 40.0), deployment("alt", 1.0)]},
            "auto": {
                "strategy": "auto",
                "tiers": {"simple": "cheap", "complex": "strong", "reasoning": "reasoner"},
            },
        },
    }


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub(config(fake_openai.base_url), database_url=sqlite_url)
    assert isinstance(hub.clock, FakeClock)
    fake_openai.clock = hub.clock
    try:
        yield hub
    finally:
        await hub.close()


async def ask(running: RunningHub, text: str) -> ChatResult:
    request = ChatRequest(
        caller=Caller(team_id=running.team.id, team_name=running.team.name),
        origin=Origin(connector="slack", user="U1", workspace="T1", channel="C1"),
        messages=(Message.text("user", text),),
        model="auto",
    )
    async with running.hub.chat(request) as stream:
        return await stream.collect()


async def test_auto_routes_by_complexity_and_records_the_counterfactual(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    simple, code, proof = [await ask(running, t) for t in ("hi!", CODE, PROOF)]
    assert [simple.deployment, code.deployment, proof.deployment] == [
        "up/mini",
        "up/big",
        "up/thinker",
    ]
    assert fake_openai.models_called() == ["mini", "big", "thinker"]
    rows = await usage_rows(running.hub)
    assert [(r.alias, r.requested_alias, r.routed_by) for r in rows] == [
        ("cheap", "auto", "auto:simple"),
        ("strong", "auto", "auto:complex"),  # "medium" is not configured: next stronger
        ("reasoner", "auto", "auto:reasoning"),
    ]
    for row in rows:  # priced at reasoner's first deployment (40 USD/Mtok)
        tokens = row.prompt_tokens + row.completion_tokens
        assert row.counterfactual_micros == -(-tokens * 40 // 1)
    assert rows[0].cost_micros < rows[0].counterfactual_micros
    assert rows[2].cost_micros == rows[2].counterfactual_micros


async def test_non_auto_aliases_have_no_counterfactual(running: RunningHub) -> None:
    request = ChatRequest(
        caller=Caller(team_id=running.team.id, team_name=running.team.name),
        origin=Origin(connector="slack", user="U1", workspace="T1", channel="C1"),
        messages=(Message.text("user", "hi"),),
        model="cheap",
    )
    async with running.hub.chat(request) as stream:
        await stream.collect()
    [row] = await usage_rows(running.hub)
    assert (row.routed_by, row.counterfactual_micros) == (None, None)
