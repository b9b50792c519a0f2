"""GET /metrics: protected by default, Prometheus' format, counters equal to the ledger."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from hub.clock import FakeClock
from tests.fakes.openai_server import FakeOpenAI, error, reply
from tests.hub.observability.support import TOKEN, ledger, samples, scrape, total
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub

METRIC = re.compile(r"\bunillm_[a-z_]+")
PRICE = 1000.0  # $1,000 per million tokens: a token costs 1,000 micro-dollars


def config(base_url: str, **metrics: object) -> dict[str, object]:
    return {
        "providers": {
            "up": openai_provider_config(base_url),
            "spare": openai_provider_config(base_url),
        },
        "models": {
            "gpt": model_config(("up", "gpt-4o-mini", PRICE, PRICE)),
            "pair": model_config(("up", "gpt-4o", PRICE, PRICE), ("spare", "gpt-4o", PRICE, PRICE)),
        },
        "router": {"max_retries": 1, "backoff_base_s": 0.01, "backoff_max_s": 0.02},
        "metrics": {"bearer_token": TOKEN, **metrics},
    }


async def ask(running: RunningHub, model: str, *, stream: bool = False) -> httpx.Response:
    async with running.client() as http:
        return await http.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {running.key.key}"},
            json={
                "model": model,
                "stream": stream,
                "messages": [{"role": "user", "content": "hi"}],
            },
        )


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> RunningHub:
    hub = await start_hub(
        config(fake_openai.base_url),
        database_url=sqlite_url,
        clock=FakeClock(),
        monthly_budget_micros=5_000_000,
    )
    await hub.serve()
    yield hub  # type: ignore[misc]
    await hub.close()


async def test_without_the_token_metrics_are_refused(running: RunningHub) -> None:
    async with running.client() as http:
        missing = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        key = await http.get("/metrics", headers={"Authorization": f"Bearer {running.key.key}"})
        right = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert [missing.status_code, wrong.status_code, key.status_code] == [401, 401, 401]
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert right.status_code == 200
    assert right.headers["Content-Type"].startswith("text/plain; version=")
    for name in (
        "unillm_requests_total",
        "unillm_tokens_total",
        "unillm_spend_usd_total",
        "unillm_request_duration_seconds",
        "unillm_time_to_first_token_seconds",
        "unillm_overhead_seconds",
        "unillm_team_budget_remaining_usd",
        "unillm_deployment_state",
        "unillm_deployment_circuit_open",
    ):
        assert f"# HELP {name} " in right.text and f"# TYPE {name} " in right.text


async def test_no_token_configured_means_no_metrics(
    fake_openai: FakeOpenAI, sqlite_url: str
) -> None:
    raw = config(fake_openai.base_url)
    raw["metrics"] = {}
    running = await start_hub(raw, database_url=sqlite_url)
    await running.serve()
    try:
        async with running.client() as http:
            refused = await http.get("/metrics", headers={"Authorization": "Bearer x"})
        assert refused.status_code == 401
        assert "set [metrics] bearer_token" in refused.json()["error"]["message"]
    finally:
        await running.close()


async def test_counters_equal_the_ledger(running: RunningHub, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(
        reply("one two three", prompt_tokens=11, completion_tokens=3),  # plain
        reply("four five", prompt_tokens=7, completion_tokens=2),  # streamed
        error(500),
        error(500),  # gpt: both tries fail -> one error record
        error(500),
        error(500),  # pair: up fails twice, then spare answers
        reply("six", prompt_tokens=5, completion_tokens=1),
        error(400),  # not retryable, no fallback worth it... the spare gets it
        reply("seven", prompt_tokens=4, completion_tokens=1),
    )
    assert (await ask(running, "gpt")).status_code == 200
    assert (await ask(running, "gpt", stream=True)).status_code == 200
    assert (await ask(running, "gpt")).status_code == 503
    assert (await ask(running, "pair")).status_code == 200
    assert (await ask(running, "pair")).status_code == 200
    found = samples(await scrape(running.base_url))
    books = await ledger(running.hub)
    assert books["requests"] == {"ok": 4, "error": 1}
    for status, count in books["requests"].items():
        assert total(found, "unillm_requests_total", status=status) == count
    assert total(found, "unillm_requests_total") == sum(books["requests"].values())
    assert total(found, "unillm_tokens_total", type="input") == books["input"] == 11 + 7 + 5 + 4
    assert total(found, "unillm_tokens_total", type="output") == books["output"] == 3 + 2 + 1 + 1
    assert total(found, "unillm_spend_usd_total") == pytest.approx(books["spend_micros"] / 1e6)
    # Attempts: 2 ok on gpt, 2 failed on gpt, 2 failed + 1 ok on pair, 1 failed + 1 ok.
    assert total(found, "unillm_upstream_attempts_total") == 9
    assert total(found, "unillm_upstream_attempts_total", outcome="provider_unavailable") == 4
    assert total(found, "unillm_upstream_attempts_total", outcome="provider_bad_request") == 1
    assert total(found, "unillm_retries_total", deployment="up/gpt-4o-mini") == 1
    assert total(found, "unillm_fallbacks_total", alias="pair", reason="provider_unavailable") == 1
    assert total(found, "unillm_fallbacks_total", alias="pair", reason="provider_bad_request") == 1
    assert total(found, "unillm_request_duration_seconds_count") == 5
    assert total(found, "unillm_overhead_seconds_count", connector="openai_api") == 5
    assert total(found, "unillm_time_to_first_token_seconds_count") == 4
    # The team's budget, read from the ledger's counters at scrape time.
    spent = books["spend_micros"]
    assert total(
        found, "unillm_team_budget_remaining_usd", team="acme", window="month"
    ) == pytest.approx((5_000_000 - spent) / 1e6)
    assert total(found, "unillm_team_budget_limit_usd", team="acme", window="month") == 5.0
    assert total(found, "unillm_team_budget_reset_hours", team="acme") == pytest.approx(
        15 * 24 + 12  # FakeClock: 2026-11-15 12:00 UTC, resets 2026-12-01 00:00 UTC
    )


async def test_the_grafana_dashboard_queries_only_exported_metrics(running: RunningHub) -> None:
    dashboard = json.loads((Path(__file__).parents[3] / "docs/grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {re.sub(r"_(bucket|count|sum)$", "", m) for e in exprs for m in METRIC.findall(e)}
    exported = set(re.findall(r"^# HELP (\S+) ", await scrape(running.base_url), re.M))
    exported = {re.sub(r"_total$", "", name) for name in exported} | exported
    assert used and used <= exported, used - exported
