"""What the web app needs from a connector, and how connectors are found (by config name).

Connectors register an object under the entry-point group `unillm_hub.connectors`; the hub
never imports a connector package by name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

import click
from aiohttp import web

log = logging.getLogger("hub.connector")

if TYPE_CHECKING:
    from hub.service import Hub

ENTRY_POINT_GROUP = "unillm_hub.connectors"


class Connector(Protocol):
    name: str

    def routes(self) -> Sequence[web.AbstractRouteDef]: ...
    async def start(self) -> None: ...  # background work (gateway, socket mode)
    async def stop(self) -> None: ...


class ConnectorPlugin(Protocol):
    name: str
    enabled_by_default: bool

    def create(self, hub: Hub, section: Mapping[str, Any]) -> Connector: ...
    def commands(self) -> Sequence[click.Command]: ...  # extra `hub` subcommands


class DocumentedPlugin(Protocol):
    """Optional on a plugin: its part of `/openapi.json`, an OpenAPI 3.1 fragment holding
    `paths` and, if it needs them, `components` (schemas, securitySchemes) and `tags`."""

    def openapi_fragment(self) -> Mapping[str, Any]: ...


def openapi_fragment(plugin: ConnectorPlugin) -> Mapping[str, Any] | None:
    """The plugin's OpenAPI fragment, or None when it documents nothing (the hook is optional,
    so older connectors keep working)."""
    hook = getattr(plugin, "openapi_fragment", None)
    return hook() if callable(hook) else None


def discover() -> dict[str, ConnectorPlugin]:
    found: dict[str, ConnectorPlugin] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found[ep.name] = ep.load()
        except (ImportError, AttributeError):
            # A connector whose package or dependencies are missing must not take the
            # others down; say so loudly instead.
            log.exception("connector %r could not be loaded and is unavailable", ep.name)
    return found


def enabled(
    plugins: Mapping[str, ConnectorPlugin], sections: Mapping[str, Mapping[str, Any]]
) -> list[ConnectorPlugin]:
    chosen = []
    for name, plugin in plugins.items():
        section = sections.get(name, {})
        if section.get("enabled", plugin.enabled_by_default):
            chosen.append(plugin)
    return chosen
