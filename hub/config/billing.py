"""`[billing]` and `[billing.stripe]`: plans and invoices (hub/billing), and the Stripe
connector's credentials (connectors/stripe reads them)."""

from __future__ import annotations

from pydantic import Field

from hub.config.base import Secret, Section


class StripeSettings(Section):
    api_key: Secret = Field("", description="Stripe secret key (sk_...). Empty: no Stripe.")
    webhook_secret: Secret = Field(
        "", description="The webhook endpoint's signing secret (whsec_...)."
    )
    meter_event_name: str = Field(
        "llm_tokens", min_length=1, max_length=100, description="Your billing meter's event_name."
    )
    api_base: str = Field("", description='Stripe API base URL; "" is https://api.stripe.com.')
    timeout_s: float = Field(20.0, gt=0, le=600, description="Timeout of one Stripe call.")


class BillingSettings(Section):
    price_catalog: str = Field(
        "",
        description='A LiteLLM-format price list; "" is the shipped one'
        " (hub/billing/model_prices.json, package data).",
    )
    suspend_after_days: int = Field(
        14, ge=0, le=3650, description="A team whose payment failed this long ago is refused."
    )
    invoice_prefix: str = Field("INV-", max_length=20, description="Invoice numbers' prefix.")
    currency: str = Field("usd", min_length=3, max_length=3, description="Invoice currency.")
    issuer: str = Field("UniLLM Hub", max_length=200, description="The name on PDF invoices.")
    stripe: StripeSettings = StripeSettings()
