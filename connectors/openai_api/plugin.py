"""Registration of the OpenAI-compatible API with the hub's web app."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click
from aiohttp import web

from connectors.openai_api import openapi, render
from connectors.openai_api.config import OpenAIApiSettings
from connectors.openai_api.routes import OpenAIRoutes
from hub.connector import SectionValue
from hub.errors import HubError
from hub.service import Hub


class OpenAIConnector:
    name = "openai_api"

    def __init__(self, hub: Hub, settings: OpenAIApiSettings) -> None:
        self._routes = OpenAIRoutes(hub, max_body_bytes=settings.max_body_bytes)

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return self._routes.definitions()

    def error_response(self, error: HubError) -> web.StreamResponse:
        return render.error_response(error)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class OpenAIPlugin:
    name = "openai_api"
    enabled_by_default = True

    def create(self, hub: Hub, section: SectionValue) -> OpenAIConnector:
        return OpenAIConnector(hub, OpenAIApiSettings.usable(section, name="openai_api"))

    def settings_model(self) -> type[OpenAIApiSettings]:
        return OpenAIApiSettings

    def commands(self) -> Sequence[click.Command]:
        return ()

    def openapi_fragment(self) -> Mapping[str, Any]:
        return openapi.fragment()


plugin = OpenAIPlugin()
