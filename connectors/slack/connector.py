"""The Slack connector as it runs: bolt's app, the events and install routes, Socket Mode,
and the answers in progress."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from connectors.slack.answer import Answerer
from connectors.slack.bolt_app import build_bolt, file_hosts
from connectors.slack.config import SlackSettings
from connectors.slack.install import InstallRoutes
from connectors.slack.listeners import Listeners
from connectors.slack.notices import SlackNoticeSender
from connectors.slack.routes import EventRoutes
from connectors.slack.runs import CANCEL, SIGNAL_CHANNEL, Runs
from hub.errors import HubError
from hub.service import Hub
from hub.signals import Subscription

log = logging.getLogger("connectors.slack")
STOP_GRACE_S = 20.0
SOCKET_CLOSE_S = 5.0


class SlackConnector:
    name = "slack"

    def __init__(self, hub: Hub, settings: SlackSettings) -> None:
        self._hub = hub
        self.settings = settings
        self.runs = Runs()
        parts = build_bolt(hub, settings)
        self.app: AsyncApp = parts.app
        answerer = Answerer(hub, settings, self.runs, file_hosts=file_hosts(settings))
        Listeners(hub, settings, self.runs, answerer).register(self.app)
        self._routes: list[web.AbstractRouteDef] = []
        if not settings.socket_mode:
            self._routes += EventRoutes(
                self.app,
                signing_secret=settings.signing_secret,
                clock=hub.clock,
                max_body_bytes=settings.max_body_bytes,
            ).definitions()
        if parts.flow is not None and parts.states is not None and parts.installations:
            self._routes += InstallRoutes(
                hub,
                flow=parts.flow,
                states=parts.states,
                installations=parts.installations,
                link_key=settings.client_secret,
            ).definitions()
        self._socket: AsyncSocketModeHandler | None = None
        self._notices = SlackNoticeSender(settings, hub.clock, parts.installations)
        self._signals: Subscription | None = None

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return list(self._routes)

    def error_response(self, error: HubError) -> web.StreamResponse:
        # Slack reads only the status; the code and sentence are for whoever debugs it.
        status = error.status if error.status != 499 else 400
        return web.json_response(
            {"error": error.code, "message": error.user_message}, status=status
        )

    async def start(self) -> None:
        self._hub.notices.register("slack", self._notices)
        self._signals = await self._hub.signals.subscribe(SIGNAL_CHANNEL, self._on_signal)
        if self.settings.socket_mode:
            self._socket = AsyncSocketModeHandler(self.app, self.settings.app_token, logger=log)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            self._hub.links.watch("slack", self._link)  # /metrics and connection_lost alerts

    async def _link(self) -> tuple[bool, float | None]:
        socket = self._socket
        return (socket is not None and bool(await socket.client.is_connected())), None

    async def _on_signal(self, message: str) -> None:
        if message.startswith(CANCEL):
            # The process that received the press already checked who pressed it.
            self.runs.stop(message.removeprefix(CANCEL), user=None)

    async def stop(self) -> None:
        self._hub.notices.unregister("slack")
        if self._signals is not None:
            await self._signals.close()
            self._signals = None
        if self._socket is not None:
            await self._hub.links.unwatch("slack")
            # slack_sdk's aiohttp client can hang in close() when a receive or reconnect is
            # in flight (python-slack-sdk #1913): a stop must not wait on it forever.
            try:
                async with asyncio.timeout(SOCKET_CLOSE_S):
                    await self._socket.close_async()  # type: ignore[no-untyped-call]
            except TimeoutError:
                log.warning(
                    "the Slack socket did not close within %.0f s; going on", SOCKET_CLOSE_S
                )
            self._socket = None
        try:
            async with asyncio.timeout(STOP_GRACE_S):
                await self.runs.drain()
        except TimeoutError:
            log.warning("stopping with slack answers still running; cancelling them")
            await self.runs.cancel_all()

    async def drain(self) -> None:
        """Wait for every answer in progress (tests, and graceful shutdown)."""
        await self.runs.drain()
