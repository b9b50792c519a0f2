"""Budgets hold under concurrency, on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from hub.clock import FakeClock
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import model_config, openai_provider_config, start_hub
from tests.support.records import usage_rows

# $1,000 per million tokens both ways: one token costs exactly 1,000 micro-dollars.
PRICE = 1000.0


def config(base_url: str) -> dict[str, object]:
    return {
        "providers": {"up": openai_provider_config(base_url)},
        "models": {"gpt": model_config(("up", "gpt-4o-mini", PRICE, PRICE))},
    }


async def test_fifty_concurrent_requests_never_exceed_budget(
    fake_openai: FakeOpenAI, database_url: str
) -> None:
    fake_openai.default = reply("ok then", prompt_tokens=10, completion_tokens=5)
    budget = 100_000  # fits six requests at 15,000 each, but never more
    running = await start_hub(
        config(fake_openai.base_url), database_url=database_url, monthly_budget_micros=budget
    )
    await running.serve()
    try:
        async with running.client() as http:

            async def one() -> httpx.Response:
                return await http.post(
                    "/v1/chat/completions",
                    headers={"Authorization": f"Bearer {running.key.key}"},
                    json={
                        "model": "gpt",
                        "max_tokens": 20,
                        "messages": [{"role": "user", "content": "hi"}],
                    },
                )

            responses = await asyncio.gather(*(one() for _ in range(50)))
        statuses = [r.status_code for r in responses]
        assert set(statuses) <= {200, 429}
        admitted = statuses.count(200)
        assert 1 <= admitted <= 6
        assert statuses.count(429) == 50 - admitted
        refusal = next(r for r in responses if r.status_code == 429).json()["error"]
        assert refusal["code"] == "quota_exceeded"
        assert "monthly budget of $0.10" in refusal["message"]
        assert "resets on 2026-12-01 00:00 UTC" in refusal["message"]
        rows = await usage_rows(running.hub)
        assert len(rows) == admitted == len(fake_openai.requests)
        assert sum(r.cost_micros for r in rows) == admitted * 15_000 <= budget
        status = await running.hub.usage.month_status(
            (await running.hub.keys.authenticate(running.key.key)).caller
        )
        assert status.spent_micros == admitted * 15_000
    finally:
        await running.close()


@pytest.mark.parametrize("window_budget", ["budget", "tokens"])
async def test_over_budget_gets_429_saying_when_it_resets_and_spends_nothing(
    fake_openai: FakeOpenAI, sqlite_url: str, window_budget: str
) -> None:
    running = await start_hub(
        config(fake_openai.base_url),
        database_url=sqlite_url,
        clock=FakeClock(),
        monthly_budget_micros=1_000 if window_budget == "budget" else None,
        monthly_token_quota=5 if window_budget == "tokens" else None,
    )
    await running.serve()
    try:
        async with running.client() as http:
            response = await http.post(
                "/v1/chat/completions",
                headers={"Authorization": f"Bearer {running.key.key}"},
                json={"model": "gpt", "messages": [{"role": "user", "content": "hello"}]},
            )
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) == 16 * 86400 - 12 * 3600  # to Dec 1st
        message = response.json()["error"]["message"]
        if window_budget == "budget":
            assert message.startswith(
                "Team 'acme' has $0.001 left of its monthly budget of $0.001, less than"
            )
        else:
            assert message.startswith(
                "Team 'acme' has 5 tokens left of its monthly token quota of 5 tokens, fewer"
            )
        assert message.endswith("it resets on 2026-12-01 00:00 UTC.")
        assert fake_openai.requests == []
        assert await usage_rows(running.hub) == []
    finally:
        await running.close()
