"""Registration of the Zapier REST API with the hub's web app."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click
from aiohttp import web

from connectors.zapier import openapi
from connectors.zapier.config import ZapierSettings
from connectors.zapier.routes import ZapierRoutes, error_response
from hub.connector import SectionValue
from hub.errors import HubError
from hub.service import Hub


class ZapierConnector:
    name = "zapier"

    def __init__(self, hub: Hub, settings: ZapierSettings) -> None:
        self._routes = ZapierRoutes(hub, max_body_bytes=settings.max_body_bytes)

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return self._routes.definitions()

    def error_response(self, error: HubError) -> web.StreamResponse:
        return error_response(error)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class ZapierPlugin:
    name = "zapier"
    enabled_by_default = False

    def create(self, hub: Hub, section: SectionValue) -> ZapierConnector:
        return ZapierConnector(hub, ZapierSettings.usable(section, name="zapier"))

    def settings_model(self) -> type[ZapierSettings]:
        return ZapierSettings

    def commands(self) -> Sequence[click.Command]:
        return ()

    def simulate_command(self) -> click.Command:
        from connectors.zapier.simulate import simulate_zapier

        return simulate_zapier

    def openapi_fragment(self) -> Mapping[str, Any]:
        return openapi.fragment()


plugin = ZapierPlugin()
