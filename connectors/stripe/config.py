"""The `[connectors.stripe]` section: only whether the connector is on. Stripe's credentials
are billing settings, in `[billing.stripe]` (hub/config/billing.py)."""

from __future__ import annotations

from pydantic import Field

from hub.config import MIB, ConnectorSection, body_limit

# Here rather than beside the handler, so the OpenAPI fragment needs no Stripe SDK.
WEBHOOK_PATH = "/billing/stripe/webhook"


class StripeConnectorSettings(ConnectorSection):
    enabled: bool = Field(
        True,
        description="Mount POST /billing/stripe/webhook (when [billing.stripe] webhook_secret "
        "is set) and export usage to Stripe (when [billing.stripe] api_key is set).",
    )
    # Stripe's event objects are a few kilobytes; the signature header is checked first.
    max_body_bytes: int = body_limit(MIB, route="POST /billing/stripe/webhook")
