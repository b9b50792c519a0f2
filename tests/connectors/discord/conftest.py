"""A hub with the Discord connector served on 127.0.0.1, the fake Discord REST API it calls,
the fake OpenAI-compatible upstream, and a real Ed25519 key pair to sign interactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from nacl.encoding import HexEncoder
from nacl.signing import SigningKey

from connectors.discord import plugin
from tests.connectors.discord.helpers import GUILD, Interactions
from tests.fakes.discord_rest import APP_ID, BOT_TOKEN, FakeDiscordRest
from tests.fakes.openai_server import FakeOpenAI
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub

# $1 and $2 per million tokens: a 10-prompt, 3-completion answer costs 10 + 6 = 16 micros.
PRICES = ("up", "gpt-x", 1.0, 2.0)


@pytest.fixture
def signing_key() -> SigningKey:
    return SigningKey.generate()


@pytest_asyncio.fixture
async def rest() -> AsyncIterator[FakeDiscordRest]:
    async with FakeDiscordRest() as fake:
        yield fake


def hub_config(
    fake_openai: FakeOpenAI, rest: FakeDiscordRest, signing_key: SigningKey, **discord: Any
) -> dict[str, Any]:
    return {
        "providers": {"up": openai_provider_config(fake_openai.base_url)},
        "models": {
            "gpt": model_config(PRICES, vision=True),
            "small": model_config(("up", "gpt-small", 0.5, 1.0)),
        },
        "connectors": {
            "discord": {
                "enabled": True,
                "application_id": APP_ID,
                "public_key": signing_key.verify_key.encode(HexEncoder).decode(),
                "bot_token": BOT_TOKEN,
                "api_base_url": rest.base_url,
                **discord,
            }
        },
    }


@pytest_asyncio.fixture
async def running(
    sqlite_url: str, fake_openai: FakeOpenAI, rest: FakeDiscordRest, signing_key: SigningKey
) -> AsyncIterator[RunningHub]:
    """Served, with the guild GUILD bound to team acme."""
    hub = await start_hub(hub_config(fake_openai, rest, signing_key), database_url=sqlite_url)
    rest.clock = hub.clock
    try:
        await hub.hub.bindings.bind("discord", GUILD, hub.team)
        await hub.serve(plugins=[plugin])
        yield hub
    finally:
        await hub.close()


@pytest_asyncio.fixture
async def interactions(running: RunningHub, signing_key: SigningKey) -> AsyncIterator[Interactions]:
    async with running.client() as client:
        yield Interactions(client, signing_key, running.clock)
