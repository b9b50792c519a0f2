"""The `[connectors.zapier]` section: the Zapier integration's REST API (/zapier/*)."""

from __future__ import annotations

from pydantic import Field

from hub.config import ConnectorSection


class ZapierSettings(ConnectorSection):
    enabled: bool = Field(False, description="Serve /zapier/* (team key auth).")
