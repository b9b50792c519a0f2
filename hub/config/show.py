"""The effective configuration as plain data, secrets masked: what `hub config show` prints."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hub.config.base import is_secret
from hub.config.database import shown_url
from hub.config.settings import Settings
from hub.routing.settings import CacheCharge

MASK = "***"


def effective(settings: Settings) -> dict[str, Any]:
    """Every key with its value after substitution and defaults; secrets as `***`."""
    data = _section(settings)
    data["connectors"] = {
        name: _section(section) if isinstance(section, BaseModel) else _untyped(section)
        for name, section in sorted(settings.connectors.items())
    }
    return data


def _section(model: BaseModel) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in type(model).model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if "from_table_name" in extra or "connectors" in extra:
            continue
        value = getattr(model, name)
        if is_secret(extra) and value:
            out[name] = MASK
            continue
        if extra.get("secret_url") and isinstance(value, str):
            value = shown_url(value)
        plain = _plain(value)
        if plain is not None:
            out[name] = plain
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _section(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, CacheCharge):
        return str(value)
    if isinstance(value, Decimal):
        return value.normalize() if value == value.to_integral() else value
    return value


def _untyped(section: Mapping[str, Any]) -> dict[str, Any]:
    """A connector without a settings model: its keys are unknown to the hub, so only
    `enabled` is shown as is."""
    return {k: (v if k == "enabled" else MASK) for k, v in section.items()}
