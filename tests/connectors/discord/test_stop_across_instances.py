"""Stop pressed on one web process cancels the answer running in another (shared Redis)."""

from __future__ import annotations

import asyncio

import pytest
from nacl.signing import SigningKey

from connectors.discord import plugin
from hub.service import Hub
from tests.connectors.discord.conftest import hub_config
from tests.connectors.discord.helpers import (
    GUILD,
    OTHER_USER,
    Interactions,
    command,
    no_stop_button,
    original,
    stop_press,
    usage_records,
)
from tests.fakes.discord_rest import FakeDiscordRest
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import RunningHub, settings_from, start_hub
from tests.support.services import REDIS_URL

TIMEOUT = 10


@pytest.mark.redis
async def test_stop_on_the_other_instance_cancels_the_answer(
    sqlite_url: str,
    fake_openai: FakeOpenAI,
    rest: FakeDiscordRest,
    signing_key: SigningKey,
    prefix: str,
) -> None:
    config = {
        **hub_config(fake_openai, rest, signing_key),
        "redis": {"url": REDIS_URL, "key_prefix": prefix},
    }
    first = await start_hub(config, database_url=sqlite_url)
    # A second web process: same database, same Redis, its own Hub and connector.
    other = Hub.open(settings_from(config, database_url=sqlite_url), clock=first.clock)
    second = RunningHub(hub=other, clock=first.clock, team=first.team, key=first.key)
    rest.clock = first.clock
    try:
        await first.hub.bindings.bind("discord", GUILD, first.team)
        await first.serve(plugins=[plugin])
        await second.serve(plugins=[plugin])
        async with first.client() as http_a, second.client() as http_b:
            a = Interactions(http_a, signing_key, first.clock)
            b = Interactions(http_b, signing_key, first.clock)
            fake_openai.script(reply("one two three", gate_after=1))
            asked = command("ask", {"prompt": "Go on"})
            await a.post(asked)
            async with asyncio.timeout(TIMEOUT):
                first_edit = await rest.wait_for("PATCH", original(asked))
            [row] = first_edit.json["components"]
            custom_id = row["components"][0]["custom_id"]
            refused = await b.post(stop_press(custom_id, user_id=OTHER_USER))
            assert refused.json()["data"]["content"] == (
                "Only the person who asked can stop this answer."
            )
            pressed = await b.post(stop_press(custom_id))
            assert pressed.json() == {"type": 6}
            async with asyncio.timeout(TIMEOUT):
                done = await rest.wait_for(
                    "PATCH", lambda c: original(asked)(c) and no_stop_button(c.json)
                )
                await fake_openai.disconnected.wait()
        assert done.json["content"] == "one \n\n*Stopped.*"
        [record] = await usage_records(first.hub)
        assert record.status == "cancelled"
        assert len(fake_openai.requests) == 1
    finally:
        fake_openai.gate.set()
        await second.close()
        await first.close()
