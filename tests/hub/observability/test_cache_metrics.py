"""The response cache in /metrics: lookups by verdict and the provider cost hits saved, equal
to the ledger's `cached` records."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from hub.store.ledger_tables import UsageRecord
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.hub.observability.support import TOKEN, samples, scrape, total
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    cached = {**model_config(("up", "gpt-4o-mini", 1000.0, 1000.0)), "cache_ttl_s": 600}
    hub = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake_openai.base_url)},
            "models": {"cached": cached},
            "metrics": {"bearer_token": TOKEN},
        },
        database_url=sqlite_url,
    )
    await hub.serve()
    try:
        yield hub
    finally:
        await hub.close()


async def test_hits_misses_and_bypasses_are_counted_with_the_cost_saved(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.default = reply("same answer", prompt_tokens=9, completion_tokens=3)
    body = {"model": "cached", "messages": [{"role": "user", "content": "hi"}]}
    auth = {"Authorization": f"Bearer {running.key.key}"}
    async with running.client(headers=auth) as http:
        verdicts = [(await http.post("/v1/chat/completions", json=body)).headers["X-UniLLM-Cache"]
                    for _ in range(3)]  # fmt: skip
        bypass = await http.post(
            "/v1/chat/completions", json=body, headers={"Cache-Control": "no-cache"}
        )
    assert verdicts == ["miss", "hit", "hit"] and bypass.headers["X-UniLLM-Cache"] == "bypass"
    found = samples(await scrape(running.base_url))
    assert total(found, "unillm_cache_lookups_total", alias="cached", cache="miss") == 1
    assert total(found, "unillm_cache_lookups_total", alias="cached", cache="hit") == 2
    assert total(found, "unillm_cache_lookups_total", alias="cached", cache="bypass") == 1
    async with running.hub.sessions() as session:
        saved = await session.scalar(
            select(func.sum(UsageRecord.saved_micros)).where(UsageRecord.status == "cached")
        )
    assert saved == 2 * (9 + 3) * 1000  # each hit saved the answer's cost: 12 tokens at $1,000/M
    saved_usd = total(found, "unillm_cache_saved_usd_total", alias="cached", team="acme")
    assert saved_usd == pytest.approx(saved / 1e6)
