"""The `[connectors.discord]` section, parsed once into frozen settings with clear errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.config import ConfigError

DISCORD_API = "https://discord.com/api/v10"
_HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")
_SNOWFLAKE = re.compile(r"^[0-9]{1,20}$")
_KNOWN = {
    "enabled",
    "application_id",
    "public_key",
    "bot_token",
    "api_base_url",
    "gateway_url",
    "default_model",
    "dm_team",
}


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    application_id: str = ""
    public_key: str = ""
    bot_token: str = field(default="", repr=False)
    # Tests point both at fake servers; production leaves them at Discord's defaults.
    api_base_url: str = DISCORD_API
    gateway_url: str = ""
    default_model: str | None = None
    # DMs have no guild to bind; this team pays for them, or DMs are refused.
    dm_team: str | None = None
    enabled: bool = False

    def require(self, *names: str) -> None:
        """Fail with the missing key's name, for the feature that needs it."""
        for name in names:
            if not getattr(self, name):
                raise ConfigError(f"connectors.discord.{name} is required")


def parse_discord_config(section: Mapping[str, Any]) -> DiscordConfig:
    unknown = sorted(set(section) - _KNOWN)
    if unknown:
        raise ConfigError(f"connectors.discord has unknown keys: {', '.join(unknown)}")
    application_id = _text(section, "application_id")
    if application_id and not _SNOWFLAKE.match(application_id):
        raise ConfigError("connectors.discord.application_id must be the numeric application id")
    public_key = _text(section, "public_key")
    if public_key and not _HEX_KEY.match(public_key):
        raise ConfigError("connectors.discord.public_key must be the 64-character hex public key")
    api_base_url = (_text(section, "api_base_url") or DISCORD_API).rstrip("/")
    if not api_base_url.startswith(("https://", "http://")):
        raise ConfigError("connectors.discord.api_base_url must be an http(s) URL")
    gateway_url = _text(section, "gateway_url")
    if gateway_url and not gateway_url.startswith(("wss://", "ws://")):
        raise ConfigError("connectors.discord.gateway_url must be a ws(s) URL")
    return DiscordConfig(
        enabled=bool(section.get("enabled", False)),
        application_id=application_id,
        public_key=public_key.lower(),
        bot_token=_text(section, "bot_token"),
        api_base_url=api_base_url,
        gateway_url=gateway_url,
        default_model=_text(section, "default_model") or None,
        dm_team=_text(section, "dm_team") or None,
    )


def _text(section: Mapping[str, Any], name: str) -> str:
    value = section.get(name, "")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # ids written as TOML integers
    if not isinstance(value, str):
        raise ConfigError(f"connectors.discord.{name} must be a string")
    return value.strip()
