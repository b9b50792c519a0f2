"""The response cache through the OpenAI-compatible API: one upstream call for identical
requests, plain and streamed hits, misses on any sampling change, bypasses, the ledger's
`cached` records and the budget charged per `[cache] charge`, and teams kept apart."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hub.store.ledger_tables import BudgetCounter
from tests.fakes.openai_server import FakeOpenAI, error, reply
from tests.support.hubs import RunningHub, openai_provider_config, start_hub
from tests.support.records import usage_rows
from tests.support.services import REDIS_URL, delete_redis_prefix, redis_prefix

# $1 / $2 per million tokens; the fake answers with 1,000 prompt and 500 completion tokens:
# 1,000 x 1 + 500 x 2 = 2,000 micro-dollars an answer.
ANSWER_COST = 2_000
BODY = {"model": "cached", "messages": [{"role": "user", "content": "Name a colour."}]}


def config(base_url: str, *, charge: str = "none", **alias: Any) -> dict[str, Any]:
    deployment = {
        "provider": "up", "model": "m", "input_usd_per_mtok": 1.0, "output_usd_per_mtok": 2.0,
    }  # fmt: skip
    return {
        "providers": {"up": openai_provider_config(base_url)},
        "models": {
            "cached": {"deployments": [deployment], "cache_ttl_s": 600, **alias},
            "plain": {"deployments": [deployment]},
        },
        "cache": {"charge": charge},
    }


async def hub_for(fake: FakeOpenAI, sqlite_url: str, **options: Any) -> RunningHub:
    fake.default = reply("Teal, mostly.", prompt_tokens=1_000, completion_tokens=500)
    running = await start_hub(
        config(fake.base_url, **options), database_url=sqlite_url, monthly_budget_micros=10**6
    )
    await running.serve()
    return running


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    hub = await hub_for(fake_openai, sqlite_url)
    try:
        yield hub
    finally:
        await hub.close()


async def post(
    running: RunningHub, body: dict[str, Any], *, key: str | None = None, **headers: str
) -> httpx.Response:
    async with running.client() as http:
        return await http.post(
            "/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {key or running.key.key}", **headers},
        )


def streamed_text(response: httpx.Response) -> str:
    text = ""
    for line in response.text.splitlines():
        if line.startswith("data: {"):
            for choice in json.loads(line[6:])["choices"]:
                text += choice["delta"].get("content") or ""
    return text


async def test_identical_requests_are_served_once_upstream_plain_and_streamed(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    first = await post(running, BODY)
    again = await post(running, BODY)
    streamed = await post(running, {**BODY, "stream": True})
    assert len(fake_openai.requests) == 1
    assert [r.headers["X-UniLLM-Cache"] for r in (first, again, streamed)] == ["miss", "hit", "hit"]
    assert {r.headers["X-UniLLM-Deployment"] for r in (first, again, streamed)} == {"up/m"}
    assert again.json()["choices"][0]["message"]["content"] == "Teal, mostly."
    assert again.json()["usage"]["completion_tokens"] == 500
    assert streamed_text(streamed) == "Teal, mostly." and "data: [DONE]" in streamed.text
    rows = await usage_rows(running.hub)
    assert [(r.status, r.cost_micros, r.saved_micros, r.deployment) for r in rows] == [
        ("ok", ANSWER_COST, 0, "up/m"),
        ("cached", 0, ANSWER_COST, "up/m"),
        ("cached", 0, ANSWER_COST, "up/m"),
    ]
    totals = await running.hub.usage.totals(team_id=running.team.id)
    assert totals.as_json() | {"requests": 3} == {
        "requests": 3,
        "prompt_tokens": 3_000,
        "completion_tokens": 1_500,
        "total_tokens": 4_500,
        "cost_usd": 0.002,
        "cached_requests": 2,
        "saved_usd": 0.004,
    }


async def test_a_streamed_answer_serves_a_plain_repeat(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    streamed = await post(running, {**BODY, "stream": True})
    plain = await post(running, BODY)
    assert (streamed.headers["X-UniLLM-Cache"], plain.headers["X-UniLLM-Cache"]) == ("miss", "hit")
    assert plain.json()["choices"][0]["message"]["content"] == streamed_text(streamed)
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize(
    "change",
    [{"max_tokens": 64}, {"top_p": 0.5}, {"stop": ["\n"]}, {"temperature": 0}],
)
async def test_any_sampling_change_misses(
    running: RunningHub, fake_openai: FakeOpenAI, change: dict[str, Any]
) -> None:
    await post(running, BODY)
    varied = await post(running, {**BODY, **change})
    assert varied.headers["X-UniLLM-Cache"] == "miss"
    assert len(fake_openai.requests) == 2


async def test_temperature_above_zero_and_no_cache_bypass(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    await post(running, BODY)
    warm = await post(running, {**BODY, "temperature": 0.7})
    forced = await post(running, BODY, **{"Cache-Control": "no-cache"})
    assert (warm.headers["X-UniLLM-Cache"], forced.headers["X-UniLLM-Cache"]) == ("bypass",) * 2
    assert len(fake_openai.requests) == 3
    assert "X-UniLLM-Cache" not in (await post(running, {**BODY, "model": "plain"})).headers


async def test_sampled_requests_are_cached_when_the_alias_says_so(
    fake_openai: FakeOpenAI, sqlite_url: str
) -> None:
    running = await hub_for(fake_openai, sqlite_url, cache_sampled=True)
    try:
        body = {**BODY, "temperature": 0.7}
        assert [(await post(running, body)).headers["X-UniLLM-Cache"] for _ in "ab"] == [
            "miss",
            "hit",
        ]
    finally:
        await running.close()


async def test_errors_cut_and_length_limited_answers_are_not_stored(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(error(400), reply("Teal", finish="length"))
    assert (await post(running, BODY)).status_code == 400
    assert (await post(running, BODY)).headers["X-UniLLM-Cache"] == "miss"  # cut at max_tokens
    assert (await post(running, BODY)).headers["X-UniLLM-Cache"] == "miss"  # stored now
    assert (await post(running, BODY)).headers["X-UniLLM-Cache"] == "hit"
    assert len(fake_openai.requests) == 3


async def test_no_hit_across_teams(running: RunningHub, fake_openai: FakeOpenAI) -> None:
    other = await running.hub.teams.create("globex")
    other_key = await running.hub.keys.create(other, name="k")
    await post(running, BODY)
    theirs = await post(running, BODY, key=other_key.key)
    assert theirs.headers["X-UniLLM-Cache"] == "miss"
    assert len(fake_openai.requests) == 2


async def test_a_global_alias_shares_hits_between_teams(
    fake_openai: FakeOpenAI, sqlite_url: str
) -> None:
    running = await hub_for(fake_openai, sqlite_url, cache_scope="global")
    try:
        other = await running.hub.keys.create(await running.hub.teams.create("globex"), name="k")
        await post(running, BODY)
        assert (await post(running, BODY, key=other.key)).headers["X-UniLLM-Cache"] == "hit"
    finally:
        await running.close()


async def month_spent(running: RunningHub) -> tuple[int, int, int, int]:
    async with running.hub.sessions() as session:
        counter = await session.scalar(
            select(BudgetCounter).where(
                BudgetCounter.scope == "team", BudgetCounter.scope_id == running.team.id
            )
        )
    assert counter is not None
    return (
        counter.cost_spent_micros,
        counter.tokens_spent,
        counter.cost_reserved_micros,
        counter.tokens_reserved,
    )


@pytest.mark.parametrize(
    ("charge", "cost", "tokens"),
    [("none", 0, 0), ("full", ANSWER_COST, 1_500), ("discount:80", 400, 300)],
)
async def test_a_hit_charges_the_budget_per_policy_through_reserve_and_settle(
    fake_openai: FakeOpenAI, sqlite_url: str, charge: str, cost: int, tokens: int
) -> None:
    running = await hub_for(fake_openai, sqlite_url, charge=charge)
    try:
        await post(running, BODY)
        assert await month_spent(running) == (ANSWER_COST, 1_500, 0, 0)
        hit = await post(running, BODY)
        assert hit.headers["X-UniLLM-Cache"] == "hit"
        # Spent grows by the charge; nothing is left held.
        assert await month_spent(running) == (ANSWER_COST + cost, 1_500 + tokens, 0, 0)
        rows = await usage_rows(running.hub)
        assert (rows[-1].status, rows[-1].cost_micros, rows[-1].saved_micros) == (
            "cached",
            cost,
            ANSWER_COST,
        )
    finally:
        await running.close()


@pytest.mark.redis
async def test_the_redis_backend_shares_answers_between_hubs(
    fake_openai: FakeOpenAI, sqlite_url: str
) -> None:
    prefix = await redis_prefix()
    shared = {"redis": {"url": REDIS_URL, "key_prefix": prefix}}
    fake_openai.default = reply("Teal, mostly.", prompt_tokens=1_000, completion_tokens=500)
    settings = config(fake_openai.base_url) | shared
    settings["cache"] = {"backend": "redis"}
    one = await start_hub(settings, database_url=sqlite_url)
    try:
        await one.serve()
        two = await start_hub(settings, database_url=sqlite_url.replace("hub.db", "two.db"))
        try:
            await two.serve()
            # Same team id (1) in both databases: the same team, as two processes would see it.
            await post(one, BODY)
            assert (await post(two, BODY, key=two.key.key)).headers["X-UniLLM-Cache"] == "hit"
            assert len(fake_openai.requests) == 1
        finally:
            await two.close()
    finally:
        await one.close()
        await delete_redis_prefix(prefix)
