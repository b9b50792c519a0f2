"""The `[connectors.discord]` section: typed by the hub's settings loader, checked when enabled."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from hub.config import MIB, ConfigError, ConnectorSection, Secret, body_limit

DISCORD_API = "https://discord.com/api/v10"
_HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")
_SNOWFLAKE = re.compile(r"^[0-9]{1,20}$")


def _id_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # ids written as TOML integers
    return value.strip() if isinstance(value, str) else value


class DiscordConfig(ConnectorSection):
    application_id: Annotated[str, BeforeValidator(_id_text)] = Field(
        "", description="Developer Portal → General Information → Application ID."
    )
    public_key: str = Field(
        "", description="Developer Portal → General Information → Public Key (64 hex digits)."
    )
    bot_token: Secret = Field(
        "",
        description="Developer Portal → Bot → Reset Token: the gateway bot, "
        "`hub discord sync-commands`, and answers after the 15-minute interaction token.",
    )
    # Tests point both at fake servers; production leaves them at Discord's defaults.
    api_base_url: str = Field(
        DISCORD_API, description="Discord's REST API base, with the version (tests, proxies)."
    )
    gateway_url: str = Field(
        "",
        description="The gateway's URL; without it a non-default api_base_url is asked "
        "with GET /gateway/bot (tests, proxies).",
    )
    default_model: str | None = Field(
        None, description="Model alias when neither `model:` nor a channel default is set."
    )
    # DMs have no guild to bind; this team pays for them, or DMs are refused.
    dm_team: str | None = Field(
        None, description="Team that pays for DMs with the bot; unset: DMs are refused."
    )
    feedback_buttons: bool = Field(True, description="👍/👎 buttons under finished /ask answers.")
    # An interaction carries at most a 2,000-character message or a modal's few text inputs;
    # attachments arrive as URLs.
    max_body_bytes: int = body_limit(MIB, route="POST /discord/interactions")

    @field_validator("application_id")
    @classmethod
    def _snowflake(cls, value: str) -> str:
        if value and not _SNOWFLAKE.match(value):
            raise ValueError("application_id must be the numeric application id")
        return value

    @field_validator("public_key")
    @classmethod
    def _hex_key(cls, value: str) -> str:
        value = value.strip()
        if value and not _HEX_KEY.match(value):
            raise ValueError("public_key must be the 64-character hex public key")
        return value.lower()

    @field_validator("bot_token")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("api_base_url")
    @classmethod
    def _http(cls, value: str) -> str:
        value = (value.strip() or DISCORD_API).rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError("api_base_url must be an http(s) URL")
        return value

    @field_validator("gateway_url")
    @classmethod
    def _ws(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("wss://", "ws://")):
            raise ValueError("gateway_url must be a ws(s) URL")
        return value

    @field_validator("default_model", "dm_team")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    def check(self) -> None:
        for name in ("application_id", "public_key"):
            if not getattr(self, name):
                raise ValueError(
                    f"{name} is required to serve interactions (Developer Portal → General "
                    "Information)"
                )

    def require(self, *names: str) -> None:
        """Fail with the missing key's name, for the feature that needs it."""
        for name in names:
            if not getattr(self, name):
                raise ConfigError(f"connectors.discord.{name} is required")
