"""Registration of the Stripe connector: the webhook route (when a signing secret is set) and
the payment platform billing exports usage through (when an API key is set).

Stripe is an external platform, so it lives here and not in hub/: the core's billing
(hub/billing) knows only the `PaymentPlatform` protocol and finds this one through the plugin
hook `payment_platform(hub)`. The Stripe SDK is imported only once a secret or key is set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click
from aiohttp import web

from connectors.stripe.config import WEBHOOK_PATH, StripeConnectorSettings
from connectors.stripe.openapi import fragment
from hub.errors import HubError

if TYPE_CHECKING:
    from connectors.stripe.platform import StripePlatform
    from hub.service import Hub


class StripeConnector:
    name = "stripe"

    def __init__(self, hub: Hub, settings: StripeConnectorSettings) -> None:
        self._hub = hub
        self._settings = settings

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        secret = self._hub.settings.billing.stripe.webhook_secret
        if not secret:
            return []
        from connectors.stripe.webhook import StripeWebhook

        webhook = StripeWebhook(self._hub, secret, max_body_bytes=self._settings.max_body_bytes)
        return [web.post(WEBHOOK_PATH, webhook.handle)]

    def error_response(self, error: HubError) -> web.StreamResponse:
        status = error.status if error.status != 499 else 400
        return web.json_response({"error": {"message": error.user_message}}, status=status)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class StripePlugin:
    name = "stripe"
    enabled_by_default = True

    def create(self, hub: Hub, section: object) -> StripeConnector:
        return StripeConnector(hub, StripeConnectorSettings.usable(section, name="stripe"))

    def settings_model(self) -> type[StripeConnectorSettings]:
        return StripeConnectorSettings

    def commands(self) -> Sequence[click.Command]:
        return ()

    def openapi_fragment(self) -> Mapping[str, Any]:
        return fragment()

    def payment_platform(self, hub: Hub) -> StripePlatform | None:
        settings = hub.settings.billing.stripe
        if not settings.api_key:
            return None
        from connectors.stripe.platform import StripePlatform

        return StripePlatform(settings)


plugin = StripePlugin()
