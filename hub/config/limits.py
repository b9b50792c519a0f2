"""`[rate_limits]` and `[webhooks]`: defaults for scopes without their own limits, and where
outbound deliveries may go."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hub.config.base import Section

MIB = 1024 * 1024


def body_limit(default: int, *, route: str) -> Any:
    """A connector's `max_body_bytes`: the most of a request body its routes read."""
    return Field(
        default,
        ge=1024,
        le=100 * MIB,
        description=f"Largest request body {route} reads, in bytes; a larger one is refused "
        "with 413 before it is read (a declared Content-Length) or as soon as it passes "
        "the limit (chunked).",
    )


class RateLimitDefaults(Section):
    """Per-minute limits for scopes that have none of their own (0: unlimited)."""

    key_rpm: int = Field(0, ge=0, description="Requests per minute per key.")
    key_tpm: int = Field(0, ge=0, description="Tokens per minute per key.")
    member_rpm: int = Field(0, ge=0, description="Requests per minute per member.")
    member_tpm: int = Field(0, ge=0, description="Tokens per minute per member.")
    team_rpm: int = Field(0, ge=0, description="Requests per minute per team.")
    team_tpm: int = Field(0, ge=0, description="Tokens per minute per team.")


class WebhookSettings(Section):
    allow_private_targets: bool = Field(
        False,
        description="Outbound deliveries (event subscriptions, Zapier hooks, webhook "
        "callbacks) to loopback, private, link-local, carrier-grade NAT, benchmarking, "
        "multicast, reserved or unspecified addresses (or IPv6 forms embedding them) are "
        "refused unless true.",
    )
