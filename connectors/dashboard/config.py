"""The `[connectors.dashboard]` section: the web dashboard at `/`."""

from __future__ import annotations

from pydantic import Field

from hub.config import ConnectorSection


class DashboardSettings(ConnectorSection):
    enabled: bool = Field(
        True,
        description="Serve the web dashboard at / (sign in with a team key or the operator key).",
    )
    session_hours: int = Field(
        12, ge=1, le=24 * 30, description="How long a sign-in lasts before signing in again."
    )
    lockout_failures: int = Field(
        5,
        ge=1,
        le=1000,
        description="Failed sign-ins from one address within `lockout_minutes` that lock it out.",
    )
    lockout_minutes: int = Field(
        15, ge=1, le=24 * 60, description="The lockout window, and how long a lockout lasts."
    )
