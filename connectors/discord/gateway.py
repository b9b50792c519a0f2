"""The gateway bot process (`hub discord`): a discord.py client that answers mentions.

`api_base_url` and `gateway_url` redirect discord.py (tests use fake servers). discord.py
keeps both as class attributes (`Route.BASE`, `DiscordWebSocket.DEFAULT_GATEWAY`), which is
the library's own way to point it elsewhere; they are restored when the bot stops. Without
`gateway_url`, a redirected API is asked for the gateway with GET /gateway/bot, as Discord
documents for bots.
"""

from __future__ import annotations

import asyncio
import logging
import math

import yarl

from connectors.discord.config import DISCORD_API, DiscordConfig
from connectors.discord.discord_lib import discord
from connectors.discord.mentions import MentionHandler
from connectors.discord.rest import DiscordRest
from hub.service import Hub

log = logging.getLogger("connectors.discord.gateway")


def bot_intents() -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = True  # privileged: enable it in the Developer Portal
    return intents


class _Client(discord.Client):
    def __init__(self, bot: GatewayBot) -> None:
        super().__init__(intents=bot_intents(), max_messages=1000)
        self._bot = bot

    async def on_message(self, message: discord.Message) -> None:
        self._bot.spawn(message)


class GatewayBot:
    def __init__(self, hub: Hub, config: DiscordConfig) -> None:
        config.require("bot_token")
        self._hub = hub
        self._config = config
        self._handler = MentionHandler(hub, config)
        self.client = _Client(self)
        self._connection: asyncio.Task[None] | None = None
        self._answers: set[asyncio.Task[None]] = set()
        self._saved: tuple[str, yarl.URL] | None = None

    async def start(self) -> None:
        """Log in and connect in the background; returns once logged in."""
        await self._redirect()
        await self.client.login(self._config.bot_token)
        self._connection = asyncio.create_task(self.client.connect(reconnect=True))
        self._hub.links.watch("discord", self._link)  # /metrics and connection_lost alerts

    async def _link(self) -> tuple[bool, float | None]:
        up = self.client.is_ready() and not self.client.is_closed()
        latency = self.client.latency  # nan until the first heartbeat is acknowledged
        return up, latency if up and math.isfinite(latency) else None

    async def run(self) -> None:
        """Run until the connection ends for good (or the process is stopped)."""
        try:
            await self.start()
            assert self._connection is not None
            await self._connection
        finally:
            await self.close()

    async def close(self) -> None:
        await self._hub.links.unwatch("discord")
        for answer in list(self._answers):
            answer.cancel()
        await asyncio.gather(*self._answers, return_exceptions=True)
        await self.client.close()
        if self._connection is not None:
            await asyncio.gather(self._connection, return_exceptions=True)
        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    async def drain(self) -> None:
        """Wait for the answers in progress (a graceful stop; tests use it as a sync point)."""
        while self._answers:
            await asyncio.gather(*self._answers, return_exceptions=True)

    def spawn(self, message: discord.Message) -> None:
        me = self.client.user
        if me is None:
            return
        task = asyncio.create_task(self._answer(message, me.id))
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def _answer(self, message: discord.Message, bot_id: int) -> None:
        tracing = self._hub.observability.tracing
        try:
            with tracing.event("discord", "message", conversation=str(message.channel.id)):
                await self._handler.handle(message, bot_id=bot_id)
        except Exception:  # noqa: BLE001 - one failed answer must not reach discord.py's loop
            log.exception("answering message %s failed", message.id)

    async def _redirect(self) -> None:
        config = self._config
        gateway = config.gateway_url
        if not gateway and config.api_base_url != DISCORD_API:
            rest = DiscordRest(
                self._hub.http,
                base_url=config.api_base_url,
                bot_token=config.bot_token,
                clock=self._hub.clock,
            )
            gateway = await rest.gateway_url()
        if config.api_base_url == DISCORD_API and not gateway:
            return
        self._saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = config.api_base_url
        if gateway:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
