"""The `[connectors.admin_api]` section: the admin HTTP API under /admin/api/v1."""

from __future__ import annotations

from pydantic import Field

from hub.config import MIB, ConnectorSection, body_limit


class AdminApiSettings(ConnectorSection):
    enabled: bool = Field(
        True,
        description="Serve the admin API (team admins and owners; the operator key).",
    )
    max_body_bytes: int = body_limit(MIB, route="the admin API")
