"""Strategies, capabilities and circuits through the hub, against a fake upstream on 127.0.0.1
whose per-model latency (on the fake clock) and failures the tests script."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from hub.clock import FakeClock
from hub.errors import HubError
from hub.model import Caller, ChatRequest, ChatResult, ImagePart, Message, Origin, TextPart
from hub.routing.errors import AllCircuitsOpen, NoCapableDeployment
from tests.fakes.openai_server import FakeOpenAI, error, reply
from tests.support.hubs import RunningHub, openai_provider_config, start_hub
from tests.support.records import usage_rows


def deployment(model: str, price: float = 1.0, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "up",
        "model": model,
        "input_usd_per_mtok": price,
        "output_usd_per_mtok": price,
        **extra,
    }


def config(base_url: str) -> dict[str, Any]:
    return {
        "providers": {"up": openai_provider_config(base_url)},
        "router": {"backoff_base_s": 0.01, "backoff_max_s": 0.05, "max_retries": 0},
        "models": {
            "weighted": {
                "strategy": "weighted",
                "deployments": [deployment("heavy", weight=3), deployment("light", weight=1)],
            },
            "sticky": {
                "strategy": "weighted",
                "sticky": "user",
                "deployments": [deployment("heavy", weight=3), deployment("light", weight=1)],
            },
            "latency": {
                "strategy": "latency",
                "deployments": [deployment("east"), deployment("west")],
            },
            "cost": {
                "strategy": "cost",
                "deployments": [deployment("pricey", 5.0), deployment("cheap", 0.5)],
            },
            "capable": {
                "vision": True,
                "deployments": [
                    deployment("text-only", vision=False, max_input_tokens=50),
                    deployment("seeing", max_input_tokens=1000),
                ],
            },
            "paired": {"deployments": [deployment("primary"), deployment("backup")]},
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


def chat(running: RunningHub, alias: str, *, user: str = "U1", text: str = "hi") -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=running.team.id, team_name=running.team.name),
        origin=Origin(connector="slack", user=user, workspace="T1", channel="C1"),
        messages=(Message.text("user", text),),
        model=alias,
    )


async def ask(running: RunningHub, request: ChatRequest) -> ChatResult:
    async with running.hub.chat(request) as stream:
        return await stream.collect()


async def test_weighted_splits_by_weight_through_the_real_upstream(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    answered = Counter(
        [
            (await ask(running, chat(running, "weighted", user=f"U{n}"))).deployment
            for n in range(40)
        ]
    )
    # 3:1 over 40 unsticky requests: 30 expected, sd 2.7; the 1,000-request check of the
    # same decision function is in test_strategies.py.
    assert 20 <= answered["up/heavy"] <= 38
    assert answered["up/heavy"] + answered["up/light"] == 40
    assert Counter(fake_openai.models_called()) == Counter(
        {d.removeprefix("up/"): n for d, n in answered.items()}
    )


async def test_sticky_user_keeps_each_user_on_one_deployment(running: RunningHub) -> None:
    seen: dict[str, set[str | None]] = {}
    for _ in range(2):
        for n in range(8):
            result = await ask(running, chat(running, "sticky", user=f"U{n}"))
            seen.setdefault(f"U{n}", set()).add(result.deployment)
    assert all(len(deployments) == 1 for deployments in seen.values())
    assert len(set().union(*seen.values())) == 2  # and the users do spread


async def test_latency_moves_traffic_away_from_a_slowed_deployment_and_back(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.latency = {"east": 0.2, "west": 0.3}
    clock = running.clock
    assert isinstance(clock, FakeClock)

    async def where(n: int) -> Counter[str | None]:
        return Counter(
            [(await ask(running, chat(running, "latency"))).deployment for _ in range(n)]
        )

    warm = await where(6)
    assert warm["up/east"] >= 4  # both measured; east is faster
    fake_openai.latency["east"] = 3.0  # east slows down
    await where(2)  # whichever requests hit east see it
    assert (await where(10))["up/west"] == 10
    fake_openai.latency["east"] = 0.1  # east recovers; its bad estimate decays, it is tried again
    clock.advance(60)
    back = await where(10)
    assert back["up/east"] >= 8


async def test_cost_picks_the_cheapest_capable_deployment(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    result = await ask(running, chat(running, "cost"))
    assert result.deployment == "up/cheap"
    (row,) = await usage_rows(running.hub)
    assert row.deployment == "up/cheap"


async def test_capabilities_skip_deployments_and_refuse_with_a_clear_400(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    assert (await ask(running, chat(running, "capable"))).deployment == "up/text-only"
    image = ChatRequest(
        caller=Caller(team_id=running.team.id, team_name=running.team.name),
        origin=Origin(connector="test"),
        messages=(Message("user", (TextPart("what is it"), ImagePart("image/png", data=b"x"))),),
        model="capable",
    )
    assert (await ask(running, image)).deployment == "up/seeing"
    long = chat(running, "capable", text="word " * 400)  # ~500 tokens: too long for text-only
    assert (await ask(running, long)).deployment == "up/seeing"
    with pytest.raises(NoCapableDeployment) as refused:
        await ask(running, chat(running, "capable", text="word " * 4000))
    assert refused.value.status == 400
    assert "can take this request" in refused.value.user_message
    assert "up/text-only: max_input_tokens 50" in refused.value.user_message
    assert "up/seeing: max_input_tokens 1,000" in refused.value.user_message
    assert len(fake_openai.requests) == 3  # the refusal reached no upstream
    assert len(await usage_rows(running.hub)) == 3  # and was not admitted: nothing reserved


async def test_five_500s_open_the_circuit_then_a_probe_closes_it(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    clock = running.clock
    assert isinstance(clock, FakeClock)
    fake_openai.by_model["primary"] = error(500)
    for _ in range(5):
        assert (await ask(running, chat(running, "paired"))).deployment == "up/backup"
    assert fake_openai.models_called().count("primary") == 5
    for _ in range(3):
        assert (await ask(running, chat(running, "paired"))).deployment == "up/backup"
    assert fake_openai.models_called().count("primary") == 5  # no traffic while open
    view = running.hub.circuits.view("up/primary")
    assert view.state == "open" and view.reason == "5 failures in a row"
    fake_openai.by_model["primary"] = reply("healed")
    clock.advance(30)
    assert (await ask(running, chat(running, "paired"))).deployment == "up/primary"  # the probe
    assert running.hub.circuits.view("up/primary").state == "closed"


async def test_every_circuit_open_answers_503_naming_deployments_and_until_when(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.default = error(503)
    for _ in range(5):
        with pytest.raises(HubError):
            await ask(running, chat(running, "paired"))
    calls = len(fake_openai.requests)
    await running.serve()
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {running.key.key}"},
            json={"model": "paired", "messages": [{"role": "user", "content": "hi"}]},
        )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    message = response.json()["error"]["message"]
    assert response.json()["error"]["code"] == AllCircuitsOpen.code
    assert "up/primary until 12:00:30 UTC (5 failures in a row)" in message
    assert "up/backup until 12:00:30 UTC (5 failures in a row)" in message
    assert len(fake_openai.requests) == calls  # nothing was sent upstream


async def test_every_answer_names_its_deployment_in_a_header(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    await running.serve()
    body = {"model": "cost", "messages": [{"role": "user", "content": "hi"}]}
    headers = {"Authorization": f"Bearer {running.key.key}"}
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        plain = await http.post("/v1/chat/completions", headers=headers, json=body)
        streamed = await http.post(
            "/v1/chat/completions", headers=headers, json={**body, "stream": True}
        )
    assert plain.headers["X-UniLLM-Deployment"] == "up/cheap"
    assert streamed.headers["X-UniLLM-Deployment"] == "up/cheap"
    assert "[DONE]" in streamed.text
