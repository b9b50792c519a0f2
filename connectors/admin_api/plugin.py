"""Registration of the admin API with the hub's web app, and its OpenAPI fragment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click
from aiohttp import web

from connectors.admin_api import (
    routes_billing,
    routes_bindings,
    routes_deployments,
    routes_experiments,
    routes_keys,
    routes_limits,
    routes_members,
    routes_reports,
    routes_subscriptions,
    routes_teams,
)
from connectors.admin_api.config import AdminApiSettings
from connectors.admin_api.endpoint import Endpoint
from connectors.admin_api.openapi import fragment
from connectors.admin_api.render import error_response
from hub.connector import SectionValue
from hub.errors import HubError
from hub.service import Hub


def all_endpoints() -> list[Endpoint]:
    return [
        *routes_teams.endpoints(),
        *routes_members.endpoints(),
        *routes_keys.endpoints(),
        *routes_limits.endpoints(),
        *routes_bindings.endpoints(),
        *routes_subscriptions.endpoints(),
        *routes_reports.endpoints(),
        *routes_deployments.endpoints(),
        *routes_experiments.endpoints(),
        *routes_billing.endpoints(),
    ]


class AdminApiConnector:
    name = "admin_api"

    def __init__(self, hub: Hub, settings: AdminApiSettings) -> None:
        self._hub = hub
        self._settings = settings

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        limit = self._settings.max_body_bytes
        return [endpoint.route(self._hub, max_body_bytes=limit) for endpoint in all_endpoints()]

    def error_response(self, error: HubError) -> web.StreamResponse:
        return error_response(error)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class AdminApiPlugin:
    name = "admin_api"
    enabled_by_default = True

    def create(self, hub: Hub, section: SectionValue) -> AdminApiConnector:
        return AdminApiConnector(hub, AdminApiSettings.usable(section, name="admin_api"))

    def settings_model(self) -> type[AdminApiSettings]:
        return AdminApiSettings

    def commands(self) -> Sequence[click.Command]:
        return ()

    def openapi_fragment(self) -> Mapping[str, Any]:
        return fragment(all_endpoints())


plugin = AdminApiPlugin()
