"""What the web app needs from a connector, and how connectors are found (by config name).

Connectors register an object under the entry-point group `unillm_hub.connectors`; the hub
never imports a connector package by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast

import click
from aiohttp import web

from hub.config.connectors import ConnectorSection, plugin_objects, section_enabled
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.billing.platform import PaymentPlatform
    from hub.doctor import Check
    from hub.service import Hub

# What a plugin's `create()` receives: its typed section (when it offers `settings_model()`),
# else its `[connectors.<name>]` table as a dict.
SectionValue = ConnectorSection | Mapping[str, Any]


class Connector(Protocol):
    name: str

    def routes(self) -> Sequence[web.AbstractRouteDef]: ...
    async def start(self) -> None: ...  # background work (gateway, socket mode)
    async def stop(self) -> None: ...


class ConnectorPlugin(Protocol):
    name: str
    # Used only by plugins without a settings model; a model's `enabled` default decides.
    enabled_by_default: bool

    def create(self, hub: Hub, section: SectionValue) -> Connector: ...
    def commands(self) -> Sequence[click.Command]: ...  # extra `hub` subcommands


class ConfiguredPlugin(Protocol):
    """Optional on a plugin: the model of its `[connectors.<name>]` section, so the loader
    types it, refuses unknown keys, masks its secrets and documents it."""

    def settings_model(self) -> type[ConnectorSection]: ...


class CheckedPlugin(Protocol):
    """Optional on a plugin: `hub doctor`'s rows for its platform (a token accepted, a secret
    present), run when the connector is enabled. Each row says how to fix a failure."""

    async def doctor_checks(self, hub: Hub, section: SectionValue) -> list[Check]: ...


class SimulatedPlugin(Protocol):
    """Optional on a plugin: its `hub simulate <platform>` subcommand, which sends a running
    hub what the platform would send, signed as the platform signs it."""

    def simulate_command(self) -> click.Command: ...


class DocumentedPlugin(Protocol):
    """Optional on a plugin: its part of `/openapi.json`, an OpenAPI 3.1 fragment holding
    `paths` and, if it needs them, `components` (schemas, securitySchemes) and `tags`."""

    def openapi_fragment(self) -> Mapping[str, Any]: ...


class ErrorRendering(Protocol):
    """Optional on a connector: its error format, for `hub.error_boundary` to answer with
    whatever escapes one of its handlers (a connector without it gets plain hub JSON)."""

    def error_response(self, error: HubError) -> web.StreamResponse: ...


def error_renderer(connector: Connector) -> Callable[[HubError], web.StreamResponse] | None:
    hook = getattr(connector, "error_response", None)
    return cast("Callable[[HubError], web.StreamResponse]", hook) if callable(hook) else None


def openapi_fragment(plugin: ConnectorPlugin) -> Mapping[str, Any] | None:
    """The plugin's OpenAPI fragment, or None when it documents nothing (the hook is optional,
    so older connectors keep working)."""
    hook = getattr(plugin, "openapi_fragment", None)
    return hook() if callable(hook) else None


def payment_platform(hub: Hub) -> PaymentPlatform | None:
    """The payment platform a plugin offers through its optional `payment_platform(hub)` hook
    (None from the hook: not configured); the first configured one wins."""
    for plugin in discover().values():
        hook = getattr(plugin, "payment_platform", None)
        found = hook(hub) if callable(hook) else None
        if found is not None:
            return cast("PaymentPlatform", found)
    return None


def discover() -> dict[str, ConnectorPlugin]:
    return {name: cast(ConnectorPlugin, p) for name, p in plugin_objects().items()}


def enabled(
    plugins: Mapping[str, ConnectorPlugin], sections: Mapping[str, SectionValue]
) -> list[ConnectorPlugin]:
    return [
        plugin
        for name, plugin in plugins.items()
        if section_enabled(sections.get(name, {}), plugin.enabled_by_default)
    ]
