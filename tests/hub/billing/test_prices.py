"""The price catalog: LiteLLM's format read exactly, unpriced deployments refused by name, and
a price change mid-month billing each request at the price in force when it was made."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.billing.litellm_prices import parse_price_list
from hub.billing.token_prices import UnitPrices
from hub.clock import FakeClock
from hub.config import ConfigError
from hub.model import Caller, ChatOptions, ChatRequest, Message, Origin
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.hub.billing.support import MARCH_1, at, march
from tests.support.hubs import start_hub
from tests.support.records import usage_rows


def test_litellm_prices_become_exact_micros_per_million_tokens() -> None:
    entries = parse_price_list(
        {
            "sample_spec": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0},
            "claude-x": {
                "input_cost_per_token": 3e-06,
                "output_cost_per_token": 1.5e-05,
                "cache_read_input_token_cost": 3e-07,
                "cache_creation_input_token_cost": 3.75e-06,
                "max_input_tokens": 200000,
                "max_output_tokens": 64000,
                "litellm_provider": "anthropic",
            },
            "tiny": {"input_cost_per_token": "7.5e-08", "output_cost_per_token": 3e-07},
            "dall-e-3": {"output_cost_per_image": 0.04},  # not priced per token: skipped
        }
    )
    assert [(e.model, e.provider, e.prices, e.max_input_tokens, e.max_output_tokens)
            for e in entries] == [
        ("claude-x", "anthropic", UnitPrices(3_000_000, 15_000_000, 300_000, 3_750_000),
         200_000, 64_000),
        ("tiny", "", UnitPrices(75_000, 300_000), None, None),
    ]  # fmt: skip


async def test_a_deployment_priced_by_neither_config_nor_catalog_is_refused_by_name(
    sqlite_url: str,
) -> None:
    config = {
        "providers": {"up": {"type": "openai", "base_url": "http://127.0.0.1:9/v1"}},
        "models": {
            "known": {"deployments": [{"provider": "up", "model": "gpt-4o-mini"}]},
            "mystery": {"deployments": [{"provider": "up", "model": "mystery-7b"}]},
        },
    }
    with pytest.raises(ConfigError) as refused:
        await start_hub(config, database_url=sqlite_url)
    assert "models.mystery.deployments[0] (up/mystery-7b) has no input_usd_per_mtok" in str(
        refused.value
    )
    assert "known" not in str(refused.value)  # the shipped catalog prices gpt-4o-mini


async def test_a_mid_month_price_change_bills_each_request_at_its_own_price(
    sqlite_url: str, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    config = {
        "providers": {"up": {"type": "openai", "base_url": fake_openai.base_url}},
        "models": {"nano": {"deployments": [{"provider": "up", "model": "gpt-4.1-nano"}]}},
    }
    running = await start_hub(config, database_url=sqlite_url, clock=FakeClock(MARCH_1))
    hub = running.hub
    caller = Caller(team_id=running.team.id, team_name=running.team.name)

    async def ask() -> int:
        fake_openai.script(reply("ok", prompt_tokens=1_000, completion_tokens=100))
        request = ChatRequest(
            caller=caller,
            origin=Origin(connector="test", user="u1"),
            messages=(Message.text("user", "hi"),),
            options=ChatOptions(max_tokens=100),
        )
        async with hub.chat(request) as stream:
            result = await stream.collect()
        assert result.status.value == "ok", result.error
        return result.cost_micros

    try:
        at(running, march(10))
        before = await ask()  # the snapshot's $0.10 / $0.40 per million
        new_prices = tmp_path / "prices.json"
        new_prices.write_text(
            json.dumps(
                {"gpt-4.1-nano": {"input_cost_per_token": 2e-07, "output_cost_per_token": 8e-07}}
            )
        )
        report = await hub.billing.catalog.import_file(
            new_prices, effective_from=datetime(2026, 3, 15, tzinfo=UTC)
        )
        assert (report.added, report.unchanged) == (1, 0)
        at(running, march(20))  # the running hub sees the new version without a restart
        after = await ask()
        assert (before, after) == (
            (1_000 * 100_000 + 100 * 400_000) // 1_000_000,  # 140 micro-dollars
            (1_000 * 200_000 + 100 * 800_000) // 1_000_000,  # 280
        )
        assert [r.cost_micros for r in await usage_rows(hub)] == [before, after]

        at(running, datetime(2026, 4, 1, 1, tzinfo=UTC))
        ((_, invoice),) = await hub.billing.invoices.generate("2026-03", teams=[running.team])
        assert invoice is not None
        assert [(line.token_type, line.quantity, str(line.unit_price_usd.normalize()),
                 line.amount_micros) for line in invoice.lines] == [
            ("input", 1_000, "1E-7", 100),
            ("input", 1_000, "2E-7", 200),
            ("output", 100, "4E-7", 40),
            ("output", 100, "8E-7", 80),
        ]  # fmt: skip
        # Importing the same prices again adds no version.
        again = await hub.billing.catalog.import_file(
            new_prices, effective_from=datetime(2026, 3, 16, tzinfo=UTC)
        )
        assert again.added == 0
    finally:
        await running.close()
