"""Registration of inbound webhooks with the hub: routes, and the `hub webhook` commands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click
from aiohttp import web

from connectors.webhooks import openapi, render
from connectors.webhooks.cli import webhook
from connectors.webhooks.config import WebhooksConfig
from connectors.webhooks.routes import WebhookRoutes
from hub.connector import SectionValue
from hub.errors import HubError
from hub.service import Hub


class WebhooksConnector:
    name = "webhooks"

    def __init__(self, hub: Hub, config: WebhooksConfig) -> None:
        self.routes_ = WebhookRoutes(hub, config)

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return self.routes_.definitions()

    def error_response(self, error: HubError) -> web.StreamResponse:
        return render.error_response(error)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.routes_.answers.stop()


class WebhooksPlugin:
    name = "webhooks"
    enabled_by_default = False

    def create(self, hub: Hub, section: SectionValue) -> WebhooksConnector:
        return WebhooksConnector(hub, WebhooksConfig.usable(section, name="webhooks"))

    def settings_model(self) -> type[WebhooksConfig]:
        return WebhooksConfig

    def commands(self) -> Sequence[click.Command]:
        return (webhook,)

    def simulate_command(self) -> click.Command:
        from connectors.webhooks.simulate import simulate_webhook

        return simulate_webhook

    def openapi_fragment(self) -> Mapping[str, Any]:
        return openapi.fragment()


plugin = WebhooksPlugin()
