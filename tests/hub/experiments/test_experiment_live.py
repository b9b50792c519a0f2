"""Experiments through the served OpenAI-compatible API: sticky assignment by the router,
votes by POST /v1/feedback, and the report's verdicts (fake upstream on 127.0.0.1 whose
latency the test scripts on the hub's fake clock)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from hub.clock import FakeClock
from hub.experiments.service import Experiments
from hub.model import Caller, ChatRequest, Message, Origin
from tests.fakes.openai_server import FakeOpenAI
from tests.support.hubs import RunningHub, openai_provider_config, start_hub
from tests.support.logs import LogCapture
from tests.support.records import usage_rows

SMALL = {"provider": "up", "model": "small", "input_usd_per_mtok": 1.0, "output_usd_per_mtok": 2.0}
LARGE = {"provider": "up", "model": "large", "input_usd_per_mtok": 5.0, "output_usd_per_mtok": 15.0}
VARIANT_OF = {"up/small": "a", "up/large": "b"}


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    config = {
        "providers": {"up": openai_provider_config(fake_openai.base_url)},
        "router": {"max_retries": 0},
        "models": {
            "chat": {"deployments": [SMALL]},
            "cheap": {"deployments": [SMALL]},
            "strong": {"deployments": [LARGE]},
        },
    }
    hub = await start_hub(config, database_url=sqlite_url)
    assert isinstance(hub.clock, FakeClock)
    fake_openai.clock = hub.clock
    await hub.serve()
    try:
        yield hub
    finally:
        await hub.close()


async def ask(client: httpx.AsyncClient, user: str) -> tuple[str, str]:
    """One completion on `chat` as `user`: its response id and the variant that answered."""
    response = await client.post(
        "/v1/chat/completions",
        json={"model": "chat", "messages": [{"role": "user", "content": "hi"}], "user": user},
    )
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "chat"  # the alias asked for, whichever variant answered
    return response.json()["id"], VARIANT_OF[response.headers["X-UniLLM-Deployment"]]


async def run_script(
    running: RunningHub, fake: FakeOpenAI, rating: Callable[[str, int], int], *, users: int
) -> dict[str, dict[str, int]]:
    """Every user asks once and votes as the script says; returns the votes cast per variant."""
    cast: dict[str, dict[str, int]] = {"a": {"up": 0, "down": 0}, "b": {"up": 0, "down": 0}}
    seen = {"a": 0, "b": 0}
    async with running.client(headers={"Authorization": f"Bearer {running.key.key}"}) as c:
        for n in range(users):
            # Scripted latency on the fake clock: small answers in ~0.2 s, large in ~0.5 s.
            fake.latency = {"small": 0.2 + (n % 4) / 100, "large": 0.5 + (n % 3) / 100}
            response_id, variant = await ask(c, f"user-{n}")
            vote = rating(variant, seen[variant])
            seen[variant] += 1
            cast[variant]["up" if vote > 0 else "down"] += 1
            voted = await c.post(
                "/v1/feedback",
                json={"response_id": response_id, "rating": vote, "user": f"user-{n}"},
            )
            assert voted.status_code == 200, voted.text
    return cast


async def start_experiment(running: RunningHub) -> None:
    await running.hub.experiments.create(
        "tone", alias="chat", variants=["a=cheap", "b=up/large"], split="50/50", sticky="user"
    )
    await running.hub.experiments.start("tone")


def comparison(report: dict[str, Any], metric: str) -> dict[str, Any]:
    (found,) = [c for c in report["comparisons"] if c["metric"] == metric]
    return dict(found)


async def test_scripted_feedback_reports_the_significant_winner(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    await start_experiment(running)

    def script(variant: str, i: int) -> int:  # b is liked four times in five, a once in four
        if variant == "b":
            return 1 if i % 5 else -1
        return 1 if i % 4 == 0 else -1

    cast = await run_script(running, fake_openai, script, users=40)
    report = (await running.hub.experiments.report("tone")).as_json()

    variants = {v["name"]: v for v in report["variants"]}
    assert sum(v["requests"] for v in variants.values()) == 40
    for name in ("a", "b"):
        votes = cast[name]
        assert variants[name]["votes"] == votes
        shown = variants[name]["metrics"]["feedback"]
        assert shown["value"] == votes["up"] / (votes["up"] + votes["down"])
        assert shown["low"] < shown["value"] < shown["high"]
        assert shown["n"] == votes["up"] + votes["down"] == variants[name]["requests"]
    assert 10 <= variants["a"]["requests"] <= 30  # 50/50 by the sticky hash of 40 users

    feedback = comparison(report, "feedback")
    assert (feedback["significant"], feedback["better"]) == (True, "b")
    assert feedback["p_value"] < 0.05
    assert feedback["verdict"].startswith("b is better (a 2")
    assert feedback["verdict"].endswith("): significant")
    latency = comparison(report, "latency_ms")
    assert (latency["significant"], latency["better"]) == (True, "a")  # ~200 ms against ~500 ms
    a_latency = variants["a"]["metrics"]["latency_ms"]
    assert 200 <= a_latency["low"] <= a_latency["value"] <= a_latency["high"] <= 240
    cost = comparison(report, "cost_usd")
    assert (cost["significant"], cost["better"]) == (True, "a")  # large is priced 5x and up
    errors = comparison(report, "error_rate")
    assert errors["significant"] is False and errors["verdict"].startswith("not significant yet")

    rows = await usage_rows(running.hub)
    assert {(r.variant, r.alias, r.deployment) for r in rows} == {
        ("a", "cheap", "up/small"),
        ("b", "chat", "up/large"),  # a deployment variant keeps the alias's own settings
    }
    assert {(r.requested_alias, r.routed_by) for r in rows} == {("chat", "experiment")}


async def test_a_balanced_script_is_not_significant(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    await start_experiment(running)
    await run_script(running, fake_openai, lambda v, i: 1 if i % 2 == 0 else -1, users=24)
    report = (await running.hub.experiments.report("tone")).as_json()
    feedback = comparison(report, "feedback")
    assert (feedback["significant"], feedback["better"]) == (False, None)
    assert feedback["p_value"] > 0.5
    assert feedback["verdict"].startswith("not significant yet (a 5")


async def test_assignment_is_sticky_and_stops_with_the_experiment(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    await start_experiment(running)
    async with running.client(headers={"Authorization": f"Bearer {running.key.key}"}) as c:
        first = {user: (await ask(c, user))[1] for user in ("ann", "bob", "cy", "dee", "eve")}
        again = {user: (await ask(c, user))[1] for user in first}
        assert again == first
        await running.hub.experiments.stop("tone")
        after = {(await ask(c, user))[1] for user in first}
    assert after == {"a"}  # `chat` routes as configured again: its own deployment, up/small
    rows = await usage_rows(running.hub)
    assert [r.experiment_id is not None for r in rows] == [True] * 10 + [False] * 5


async def test_a_variant_no_longer_configured_routes_as_the_alias_says(
    running: RunningHub, logs: LogCapture
) -> None:
    await start_experiment(running)
    # Another process, started with a config that lost the alias variant a names.
    models = {k: v for k, v in running.hub.settings.models.items() if k != "cheap"}
    elsewhere = Experiments(running.hub.sessions, running.clock, models, rng=random.Random(0))
    chat = running.hub.settings.models["chat"]
    outcomes = set()
    for n in range(20):
        request = ChatRequest(
            caller=Caller(team_id=running.team.id, team_name="acme"),
            origin=Origin(connector="openai_api", user=f"user-{n}"),
            messages=(Message.text("user", "hi"),),
            model="chat",
        )
        assignment = await elsewhere.assign(chat, request)
        outcomes.add(assignment.variant if assignment else None)
    assert outcomes == {None, "b"}  # a's people get the alias's own routing, b's keep b
    assert any("no longer configured" in line for line in logs.lines)
