"""The `[connectors.stripe]` section: only whether the connector is on. Stripe's credentials
are billing settings, in `[billing.stripe]` (hub/config/billing.py)."""

from __future__ import annotations

from pydantic import Field

from hub.config import ConnectorSection


class StripeConnectorSettings(ConnectorSection):
    enabled: bool = Field(
        True,
        description="Mount POST /billing/stripe/webhook (when [billing.stripe] webhook_secret "
        "is set) and export usage to Stripe (when [billing.stripe] api_key is set).",
    )
