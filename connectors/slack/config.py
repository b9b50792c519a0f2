"""The `[connectors.slack]` section, parsed once into frozen settings with clear errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.config import ConfigError

DEFAULT_API_BASE_URL = "https://slack.com/api/"
KNOWN_KEYS = frozenset(
    {
        "enabled",
        "signing_secret",
        "bot_token",
        "client_id",
        "client_secret",
        "app_token",
        "socket_mode",
        "api_base_url",
        "default_model",
    }
)


@dataclass(frozen=True, slots=True)
class SlackSettings:
    signing_secret: str = field(default="", repr=False)
    bot_token: str = field(default="", repr=False)
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    socket_mode: bool = False
    api_base_url: str = DEFAULT_API_BASE_URL
    default_model: str | None = None

    @property
    def multi_workspace(self) -> bool:
        """OAuth installs (many workspaces) rather than one bot token from config."""
        return bool(self.client_id and self.client_secret)


def _text(section: Mapping[str, Any], key: str) -> str:
    value = section.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"connectors.slack.{key} must be a string")
    return value.strip()


def parse_slack_settings(section: Mapping[str, Any]) -> SlackSettings:
    unknown = sorted(set(section) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"connectors.slack has unknown keys: {', '.join(unknown)}")
    socket_mode = section.get("socket_mode", False)
    if not isinstance(socket_mode, bool):
        raise ConfigError("connectors.slack.socket_mode must be true or false")
    settings = SlackSettings(
        signing_secret=_text(section, "signing_secret"),
        bot_token=_text(section, "bot_token"),
        client_id=_text(section, "client_id"),
        client_secret=_text(section, "client_secret"),
        app_token=_text(section, "app_token"),
        socket_mode=socket_mode,
        # slack_sdk joins method names onto the base URL, so it must end with a slash.
        api_base_url=(_text(section, "api_base_url") or DEFAULT_API_BASE_URL).rstrip("/") + "/",
        default_model=_text(section, "default_model") or None,
    )
    _check(settings)
    return settings


def _check(settings: SlackSettings) -> None:
    if bool(settings.client_id) != bool(settings.client_secret):
        raise ConfigError("connectors.slack needs both client_id and client_secret for OAuth")
    if not settings.multi_workspace and not settings.bot_token:
        raise ConfigError(
            "connectors.slack needs bot_token (one workspace) or client_id and client_secret "
            "(installs through /slack/install)"
        )
    if settings.socket_mode:
        if not settings.app_token.startswith("xapp-"):
            raise ConfigError("connectors.slack.socket_mode needs app_token (xapp-...)")
    elif not settings.signing_secret:
        raise ConfigError(
            "connectors.slack.signing_secret is required: every request from Slack is verified"
        )
