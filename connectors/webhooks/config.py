"""The `[connectors.webhooks]` section, parsed once into frozen settings with clear errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hub.config import ConfigError


@dataclass(frozen=True, slots=True)
class WebhooksConfig:
    # After `hub webhook rotate-secret`, the old secret keeps verifying for this long.
    rotation_grace: timedelta = timedelta(hours=24)
    # A repeated webhook-id arriving while the first is still answered waits this long.
    duplicate_wait_s: float = 30.0
    max_body_bytes: int = 1024 * 1024


def parse_config(section: Mapping[str, Any]) -> WebhooksConfig:
    known = {"enabled", "rotation_grace_hours", "duplicate_wait_s", "max_body_bytes"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(
            f"[connectors.webhooks]: unknown option '{unknown[0]}' "
            f"(known: {', '.join(sorted(known))})"
        )
    return WebhooksConfig(
        rotation_grace=timedelta(hours=_positive(section, "rotation_grace_hours", 24)),
        duplicate_wait_s=_positive(section, "duplicate_wait_s", 30),
        max_body_bytes=int(_positive(section, "max_body_bytes", 1024 * 1024)),
    )


def _positive(section: Mapping[str, Any], name: str, default: float) -> float:
    value = section.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"[connectors.webhooks] {name} must be a positive number, not {value!r}")
    return float(value)
