"""A hub serving every connector for the fuzz tests, with the fakes behind it (an
OpenAI-compatible upstream, Slack's Web API, Discord's REST API), and how much to fuzz.

`make test` runs a fixed-seed, bounded number of examples; `make fuzz` sets
HUB_FUZZ_EXAMPLES for a longer run."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from nacl.encoding import HexEncoder
from nacl.signing import SigningKey

from connectors.admin_api import plugin as admin_api
from connectors.discord import plugin as discord
from connectors.openai_api import plugin as openai_api
from connectors.slack import plugin as slack
from connectors.stripe import plugin as stripe
from connectors.webhooks import plugin as webhooks
from connectors.zapier import plugin as zapier
from hub.inbound_hooks import InboundHooks, IssuedHook
from tests.fakes.discord_rest import APP_ID, BOT_TOKEN, FakeDiscordRest
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack
from tests.support.hubs import SECRET_KEY, RunningHub, start_hub

OPERATOR_KEY = "operator-key-for-fuzzing-0123456789abcdef"
SLACK_SECRET = "slack-signing-secret-for-fuzzing"
DISCORD_KEY = SigningKey(b"\x03" * 32)
STRIPE_SECRET = "whsec_fuzzing"
SLACK_TEAM = "T1"
DISCORD_GUILD = "900000000000000001"


def examples(default: int) -> int:
    """Examples per strategy: small and fixed in `make test`, larger under `make fuzz`."""
    return int(os.environ.get("HUB_FUZZ_EXAMPLES", default))


def time_limit() -> int:
    """Seconds a fuzz test may take: bounded in `make test`, hours under `make fuzz`."""
    return 4 * 3600 if "HUB_FUZZ_EXAMPLES" in os.environ else 300


@dataclass
class FuzzedHub:
    running: RunningHub
    hook: IssuedHook
    slack: FakeSlack
    discord: FakeDiscordRest


@asynccontextmanager
async def fuzzed_hub(database_url: str) -> AsyncIterator[FuzzedHub]:
    async with FakeSlack() as fake_slack, FakeDiscordRest() as rest:
        config: dict[str, Any] = {
            "security": {"secret_key": SECRET_KEY, "operator_key": OPERATOR_KEY},
            "billing": {"stripe": {"webhook_secret": STRIPE_SECRET}},
            "connectors": {
                "zapier": {"enabled": True},
                "webhooks": {"enabled": True},
                "slack": {
                    "enabled": True,
                    "signing_secret": SLACK_SECRET,
                    "bot_token": DEFAULT_TOKEN,
                    "api_base_url": fake_slack.base_url,
                },
                "discord": {
                    "enabled": True,
                    "application_id": APP_ID,
                    "public_key": DISCORD_KEY.verify_key.encode(HexEncoder).decode(),
                    "bot_token": BOT_TOKEN,
                    "api_base_url": rest.base_url,
                },
            },
        }
        running = await start_hub(config, database_url=database_url)
        fake_slack.clock = running.clock  # type: ignore[assignment]
        rest.clock = running.clock
        try:
            await running.hub.bindings.bind("slack", SLACK_TEAM, running.team)
            await running.hub.bindings.bind("discord", DISCORD_GUILD, running.team)
            hooks = InboundHooks.for_hub(running.hub)
            hook = await hooks.create(running.team, name="fuzz")
            await running.serve(
                plugins=[openai_api, admin_api, zapier, webhooks, slack, discord, stripe]
            )
            yield FuzzedHub(running, hook, fake_slack, rest)
        finally:
            await running.close()
