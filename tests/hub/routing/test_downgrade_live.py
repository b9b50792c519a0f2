"""Budget-aware downgrade through the hub: a team past downgrade_at_percent of its monthly
budget is answered by downgrade_to, the usage record says "downgrade", and the answer carries
the notice once per team per month."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from sqlalchemy import update

from connectors.openai_api.routing_headers import routing_headers
from hub.chat_stream import ChatStream
from hub.clock import FakeClock
from hub.ledger.periods import period_start
from hub.model import Caller, ChatRequest, ChatResult, Message, Origin
from hub.store.ledger_tables import BudgetCounter
from tests.fakes.openai_server import FakeOpenAI
from tests.support.hubs import RunningHub, openai_provider_config, start_hub
from tests.support.records import usage_rows

BUDGET = 100_000_000  # 100 USD a month


def deployment(model: str) -> dict[str, Any]:
    return {"provider": "up", "model": model, "input_usd_per_mtok": 1, "output_usd_per_mtok": 1}


def config(base_url: str) -> dict[str, Any]:
    return {
        "providers": {"up": openai_provider_config(base_url)},
        "router": {"max_retries": 0},
        "models": {
            "chat": {
                "deployments": [deployment("big")],
                "downgrade_at_percent": 90,
                "downgrade_to": "cheap",
            },
            "cheap": {"deployments": [deployment("mini")]},
        },
    }


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub(
        config(fake_openai.base_url), database_url=sqlite_url, monthly_budget_micros=BUDGET
    )
    assert isinstance(hub.clock, FakeClock)
    fake_openai.clock = hub.clock
    try:
        yield hub
    finally:
        await hub.close()


async def ask(running: RunningHub) -> ChatResult:
    request = ChatRequest(
        caller=Caller(team_id=running.team.id, team_name=running.team.name),
        origin=Origin(connector="slack", user="U1", workspace="T1", channel="C1"),
        messages=(Message.text("user", "hi"),),
        model="chat",
    )
    async with running.hub.chat(request) as stream:
        return await stream.collect()


async def spend(running: RunningHub, micros: int) -> None:
    async with running.hub.sessions() as session, session.begin():
        await session.execute(
            update(BudgetCounter)
            .where(
                BudgetCounter.scope == "team",
                BudgetCounter.scope_id == running.team.id,
                BudgetCounter.window == "month",
                BudgetCounter.period_start == period_start("month", running.hub.clock.now()),
            )
            .values(cost_spent_micros=micros)
        )


async def test_a_team_past_the_threshold_is_downgraded_and_told_once(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    before = await ask(running)  # well under budget: the alias asked for
    assert (before.deployment, before.notice) == ("up/big", None)
    await spend(running, BUDGET * 91 // 100)
    first, second = await ask(running), await ask(running)
    assert [first.deployment, second.deployment] == ["up/mini", "up/mini"]
    assert first.notice is not None and "cheap" in first.notice and "90%" in first.notice
    assert second.notice is None  # once per team per month
    assert fake_openai.models_called() == ["big", "mini", "mini"]
    rows = await usage_rows(running.hub)
    assert [(r.alias, r.requested_alias, r.routed_by) for r in rows] == [
        ("chat", None, None),
        ("cheap", "chat", "downgrade"),
        ("cheap", "chat", "downgrade"),
    ]


def test_the_openai_api_names_the_alias_a_downgrade_answered_from() -> None:
    class Seen:
        deployment = "up/mini"
        result = ChatResult(request_id="r", alias="cheap", routed_by="downgrade")

    headers = routing_headers(cast(ChatStream, Seen()))
    assert headers["X-UniLLM-Downgraded"] == "cheap"
