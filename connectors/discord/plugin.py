"""Registration of the Discord connector: the interactions route and the `hub discord` CLI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click
from aiohttp import web

from connectors.discord import openapi
from connectors.discord.ask import SIGNAL_CHANNEL, AskRunner
from connectors.discord.config import DiscordConfig
from connectors.discord.interactions import InteractionsEndpoint
from connectors.discord.pages import NO_MENTIONS
from connectors.discord.rest import DiscordRest
from hub.connector import SectionValue
from hub.doctor import Check
from hub.errors import HubError
from hub.service import Hub
from hub.signals import Subscription


class DiscordConnector:
    """The web process's part: interactions. The gateway bot runs as `hub discord`."""

    name = "discord"

    def __init__(self, hub: Hub, config: DiscordConfig) -> None:
        rest = DiscordRest(
            hub.http, base_url=config.api_base_url, bot_token=config.bot_token, clock=hub.clock
        )
        self._hub = hub
        self._rest = rest
        self._bot_token = config.bot_token
        self._runner = AskRunner(hub, rest, feedback=config.feedback_buttons)
        self._endpoint = InteractionsEndpoint(hub, config, self._runner)
        self._signals: Subscription | None = None

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return self._endpoint.definitions()

    def error_response(self, error: HubError) -> web.StreamResponse:
        status = error.status if error.status != 499 else 400
        return web.json_response({"error": error.user_message}, status=status)

    async def start(self) -> None:
        if self._bot_token:  # posting into a channel needs the bot
            self._hub.notices.register("discord", self.post_notice)
        self._signals = await self._hub.signals.subscribe(SIGNAL_CHANNEL, self._runner.on_signal)

    async def stop(self) -> None:
        self._hub.notices.unregister("discord")
        if self._signals is not None:
            await self._signals.close()
            self._signals = None
        await self._runner.close()

    async def post_notice(self, channel_id: str, text: str) -> None:
        """A budget notice in the team's channel, as the bot (POST /channels/{id}/messages)."""
        await self._rest.send_message(
            channel_id, {"content": text, "allowed_mentions": NO_MENTIONS}
        )


class DiscordPlugin:
    name = "discord"
    enabled_by_default = False

    def create(self, hub: Hub, section: SectionValue) -> DiscordConnector:
        return DiscordConnector(hub, DiscordConfig.usable(section, name="discord"))

    def settings_model(self) -> type[DiscordConfig]:
        return DiscordConfig

    async def doctor_checks(self, hub: Hub, section: SectionValue) -> list[Check]:
        from connectors.discord.doctor import discord_checks

        return await discord_checks(hub, section)

    def openapi_fragment(self) -> Mapping[str, Any]:
        return openapi.fragment()

    def simulate_command(self) -> click.Command:
        from connectors.discord.simulate import simulate_discord

        return simulate_discord

    def commands(self) -> Sequence[click.Command]:
        # Imported here so the web process never loads discord.py, which only the bot needs.
        from connectors.discord.cli import discord_group

        return (discord_group,)


plugin = DiscordPlugin()
