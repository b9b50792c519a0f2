"""The `[connectors.dashboard]` section: the web dashboard at `/`, and its sign-in providers
(`[connectors.dashboard.oidc]`, `[connectors.dashboard.discord_oauth]`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from hub.config import ConnectorSection, Secret, Section

SLACK_ISSUER = "https://slack.com"
DISCORD_API = "https://discord.com/api"


class OidcSettings(Section):
    """OpenID Connect single sign-on ("Sign in with Slack" is OpenID Connect too)."""

    issuer: str = Field(
        ...,
        max_length=100,  # it is the workspace of the `oidc` identities linked to members
        description="The provider's issuer URL; its /.well-known/openid-configuration is read "
        "at the first sign-in. `https://slack.com` is Sign in with Slack.",
    )
    client_id: str = Field(..., min_length=1, description="The client id registered there.")
    client_secret: Secret = Field(..., min_length=1, description="The client secret.")
    label: str = Field(
        "",
        description='The sign-in button\'s name ("Sign in with <label>"); empty: "Slack" '
        "for Slack's issuer, else the issuer's host.",
    )
    maps_by: Literal["auto", "slack", "subject", "email"] = Field(
        "auto",
        description="How the identity finds its member: `slack` by the linked Slack user "
        "(claims https://slack.com/user_id and team_id), `subject` by an `oidc` identity "
        "linked with the token's `sub` (workspace: the issuer), `email` by a verified email "
        "linked as an `email` identity; `auto`: `slack` for Slack's issuer, else `subject` "
        "then `email`.",
    )
    scopes: tuple[str, ...] = Field(
        ("openid", "email", "profile"), description="The scopes asked for; `openid` is added."
    )

    @field_validator("issuer")
    @classmethod
    def _issuer_is_a_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("the issuer is an https:// URL (http only on this machine)")
        return value.rstrip("/")

    @property
    def mapping(self) -> str:
        if self.maps_by != "auto":
            return self.maps_by
        return "slack" if self.issuer == SLACK_ISSUER else "auto"


class DiscordOAuthSettings(Section):
    """Sign in with Discord (OAuth2, scope `identify`), mapped to the linked Discord user."""

    client_id: str = Field(..., min_length=1, description="Developer Portal → OAuth2 → Client ID.")
    client_secret: Secret = Field(
        ..., min_length=1, description="Developer Portal → OAuth2 → Client Secret."
    )
    base_url: str = Field(
        DISCORD_API,
        description="Discord's API base: /oauth2/authorize, /oauth2/token and /users/@me "
        "under it (tests, proxies).",
    )


class DashboardSettings(ConnectorSection):
    enabled: bool = Field(
        True,
        description="Serve the web dashboard at / (sign in with a team key, the operator key, "
        "or single sign-on as a member).",
    )
    session_hours: int = Field(
        12, ge=1, le=24 * 30, description="How long a sign-in lasts before signing in again."
    )
    lockout_failures: int = Field(
        5,
        ge=1,
        le=1000,
        description="Failed sign-ins (keys or two-factor codes) from one address, or failed "
        "codes of one member, within `lockout_minutes` that lock it out.",
    )
    lockout_minutes: int = Field(
        15, ge=1, le=24 * 60, description="The lockout window, and how long a lockout lasts."
    )
    default_language: Literal["en", "de"] = Field(
        "en",
        description="The pages' language for a browser that asks for none of the dashboard's "
        "languages (its Accept-Language) and has not chosen one with the language links.",
    )
    oidc: OidcSettings | None = Field(
        None, description="OpenID Connect sign-in: the `[connectors.dashboard.oidc]` table."
    )
    discord_oauth: DiscordOAuthSettings | None = Field(
        None, description="Discord sign-in: the `[connectors.dashboard.discord_oauth]` table."
    )
