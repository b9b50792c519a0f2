"""The `[connectors.zapier]` section: the Zapier integration's REST API (/zapier/*)."""

from __future__ import annotations

from pydantic import Field

from hub.config import MIB, ConnectorSection, body_limit


class ZapierSettings(ConnectorSection):
    enabled: bool = Field(False, description="Serve /zapier/* (team key auth).")
    max_body_bytes: int = body_limit(MIB, route="/zapier/*")
