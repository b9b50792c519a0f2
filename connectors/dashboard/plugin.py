"""Registration of the dashboard with the hub's web app."""

from __future__ import annotations

from collections.abc import Sequence

import click
from aiohttp import web

from connectors.dashboard.config import DashboardSettings
from hub.connector import SectionValue
from hub.service import Hub


class DashboardConnector:
    name = "dashboard"

    def __init__(self, hub: Hub, settings: DashboardSettings) -> None:
        # Imported here: every `hub` command loads the plugins' settings models, and only a
        # served web app needs jinja2 and the pages.
        from connectors.dashboard.pages import Pages  # noqa: PLC0415

        self._pages = Pages(hub, settings)

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return self._pages.routes()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self._pages.close()


class DashboardPlugin:
    name = "dashboard"
    enabled_by_default = True

    def create(self, hub: Hub, section: SectionValue) -> DashboardConnector:
        return DashboardConnector(hub, DashboardSettings.usable(section, name="dashboard"))

    def settings_model(self) -> type[DashboardSettings]:
        return DashboardSettings

    def commands(self) -> Sequence[click.Command]:
        return ()


plugin = DashboardPlugin()
