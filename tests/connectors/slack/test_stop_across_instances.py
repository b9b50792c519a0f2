"""Stop pressed on one web process cancels the answer running in another (shared Redis)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from connectors.slack.plugin import plugin
from hub.service import Hub
from hub.store.ledger_tables import UsageRecord
from tests.connectors.slack.conftest import hub_config
from tests.connectors.slack.harness import TEAM, SlackHarness, stop_value
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.fakes.slack_api import FakeSlack
from tests.support.hubs import RunningHub, settings_from, start_hub
from tests.support.services import REDIS_URL


@pytest.mark.redis
async def test_stop_on_the_other_instance_cancels_the_answer(
    sqlite_url: str, fake_openai: FakeOpenAI, fake_slack: FakeSlack, prefix: str
) -> None:
    config = {
        **hub_config(fake_openai, fake_slack),
        "redis": {"url": REDIS_URL, "key_prefix": prefix},
    }
    first = await start_hub(config, database_url=sqlite_url)
    # A second web process: same database, same Redis, its own Hub and connector.
    other = Hub.open(settings_from(config, database_url=sqlite_url), clock=first.clock)
    second = RunningHub(hub=other, clock=first.clock, team=first.team, key=first.key)
    fake_slack.clock = first.clock  # type: ignore[assignment]
    try:
        await first.hub.bindings.bind("slack", TEAM, first.team)
        await first.serve(plugins=[plugin])
        await second.serve(plugins=[plugin])
        async with first.client() as http_a, second.client() as http_b:
            a = SlackHarness(first, fake_slack, fake_openai, http_a)
            b = SlackHarness(second, fake_slack, fake_openai, http_b)
            fake_openai.script(reply("one two three four five", gate_after=2))
            await a.command("tell me a long story")
            await asyncio.wait_for(fake_openai.at_gate.wait(), 5)
            await fake_slack.wait_for("chat.update", lambda c: "one two" in str(c.args["blocks"]))
            value = stop_value(fake_slack.calls_to("chat.postMessage")[0].args["blocks"])
            assert value is not None
            # Someone else's press is refused by the instance that receives it.
            await b.press_stop(value, user="U2")
            told = await fake_slack.wait_for("response_url")
            assert told.args["text"] == "Only the person who asked can stop this answer."
            pressed = await b.press_stop(value)
            assert pressed.status_code == 200
            final = await fake_slack.wait_for("chat.update", lambda c: "Stopped" in str(c.args))
            await asyncio.wait_for(fake_openai.disconnected.wait(), 5)
            await a.connector.drain()
            await b.connector.drain()
        assert final.args["blocks"][1]["text"]["text"] == "one two\n\n_Stopped._"
        async with first.hub.sessions() as session:
            statuses = [r.status for r in await session.scalars(select(UsageRecord))]
        assert statuses == ["cancelled"]
        assert len(fake_openai.requests) == 1
    finally:
        fake_openai.gate.set()
        await second.close()
        await first.close()
