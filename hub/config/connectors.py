"""`[connectors.<name>]`: each connector brings its own section model.

A plugin (entry-point group `unillm_hub.connectors`) may offer `settings_model()`, returning a
`ConnectorSection` subclass; the loader validates `[connectors.<name>]` with it, so its keys
are typed, documented and refused when unknown like the core's. A plugin without the hook
gets its table as a plain dict. The hub finds these models by entry point and never imports
a connector package by name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import TypeVar

from pydantic import Field, ValidationError, model_validator

from hub.config.base import Section
from hub.config.errors import ConfigError

log = logging.getLogger("hub.config")
ENTRY_POINT_GROUP = "unillm_hub.connectors"
S = TypeVar("S", bound="ConnectorSection")


class ConnectorSection(Section):
    """Base of every connector's section. Subclasses set their own `enabled` default and
    put what the connector needs to run in `check()`, which runs only when it is enabled
    (a disabled connector's section may be incomplete)."""

    enabled: bool = Field(False, description="Serve this connector.")

    def check(self) -> None:
        """Raise ValueError naming the key when the connector cannot run like this."""

    @model_validator(mode="after")
    def _check_when_enabled(self) -> ConnectorSection:
        if self.enabled:
            self.check()
        return self

    @classmethod
    def usable(cls: type[S], section: object, *, name: str) -> S:
        """The section as this model, checked as if enabled: what `create()` starts from."""
        try:
            typed = section if isinstance(section, cls) else cls.model_validate(section or {})
            typed.check()
        except ValidationError as exc:
            from hub.config.problems import describe

            raise ConfigError.of(describe(exc, root=cls, prefix=("connectors", name))) from None
        except ValueError as exc:
            raise ConfigError(f"[connectors.{name}] {exc}") from None
        return typed


def plugin_objects() -> dict[str, object]:
    """Every installed connector plugin (Python caches the modules themselves)."""
    found: dict[str, object] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found[ep.name] = ep.load()
        except (ImportError, AttributeError):
            # A connector whose package or dependencies are missing must not take the
            # others down; say so loudly instead.
            log.exception("connector %r could not be loaded and is unavailable", ep.name)
    return found


def section_models() -> dict[str, type[ConnectorSection] | None]:
    """Each installed connector and its section model (None: the plugin offers none)."""
    models: dict[str, type[ConnectorSection] | None] = {}
    for name, plugin in plugin_objects().items():
        hook = getattr(plugin, "settings_model", None)
        models[name] = hook() if callable(hook) else None
    return models


def section_enabled(section: object, default: bool) -> bool:
    if isinstance(section, ConnectorSection):
        return section.enabled
    if isinstance(section, Mapping):
        return bool(section.get("enabled", default))
    return default
