"""The `[connectors.slack]` section: typed by the hub's settings loader, checked when enabled."""

from __future__ import annotations

from pydantic import Field, field_validator

from hub.config import MIB, ConnectorSection, Secret, body_limit

DEFAULT_API_BASE_URL = "https://slack.com/api/"


class SlackSettings(ConnectorSection):
    signing_secret: Secret = Field(
        "", description="Verifies every request from Slack (v0 HMAC, 5-minute window)."
    )
    bot_token: Secret = Field(
        "", description="xoxb-...: one workspace. Leave empty when using OAuth installs."
    )
    client_id: str = Field("", description="OAuth installs for many workspaces.")
    client_secret: Secret = Field(
        "", description="OAuth installs for many workspaces; also signs install links."
    )
    socket_mode: bool = Field(
        False, description="Connect out over WebSocket instead of receiving HTTP requests."
    )
    app_token: Secret = Field("", description="xapp-...: only for socket_mode.")
    api_base_url: str = Field(
        DEFAULT_API_BASE_URL, description="A Slack-compatible Web API (tests, proxies)."
    )
    default_model: str | None = Field(
        None, description="Model alias when neither --model nor a channel default is set."
    )
    feedback_buttons: bool = Field(
        True, description="👍/👎 (Block Kit feedback_buttons) under every finished answer."
    )
    # Slack's payloads stay far below: a message holds at most 40,000 characters, a view at
    # most 100 blocks, and files arrive as URLs.
    max_body_bytes: int = body_limit(MIB, route="POST /slack/events")

    @field_validator("signing_secret", "bot_token", "client_id", "client_secret", "app_token")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("default_model")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @field_validator("api_base_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names onto the base URL, so it must end with a slash.
        value = value.strip() or DEFAULT_API_BASE_URL
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"api_base_url '{value}' must be an http(s) URL")
        return value.rstrip("/") + "/"

    @property
    def multi_workspace(self) -> bool:
        """OAuth installs (many workspaces) rather than one bot token from config."""
        return bool(self.client_id and self.client_secret)

    def check(self) -> None:
        if bool(self.client_id) != bool(self.client_secret):
            raise ValueError("needs both client_id and client_secret for OAuth installs")
        if not self.multi_workspace and not self.bot_token:
            raise ValueError(
                "needs bot_token (one workspace) or client_id and client_secret "
                "(installs through /slack/install)"
            )
        if self.socket_mode:
            if not self.app_token.startswith("xapp-"):
                raise ValueError("socket_mode needs app_token (xapp-...)")
        elif not self.signing_secret:
            raise ValueError("signing_secret is required: every request from Slack is verified")
