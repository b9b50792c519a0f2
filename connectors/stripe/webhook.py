"""`POST /billing/stripe/webhook`: Stripe's payment events, verified before anything else.

The signature is checked by `stripe.Webhook.construct_event`; the timestamp window (five
minutes, either way) on the hub's clock, like every other signed connector. A bad or stale
signature is a 400 with no side effect. Each event id is applied once (a replay answers 200
and changes nothing); `invoice.paid`, `invoice.payment_failed` and
`customer.subscription.deleted` move the team's billing status.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import stripe
from aiohttp import web

from connectors.stripe.config import WEBHOOK_PATH
from hub.billing.accounts import PaymentKind
from hub.errors import InvalidField
from hub.request_body import BodyTooLarge, read_body
from hub.service import Hub
from hub.untrusted import header_value

log = logging.getLogger("hub.stripe")
PATH = WEBHOOK_PATH
TOLERANCE_S = 300
KINDS: dict[str, PaymentKind] = {
    "invoice.paid": "paid",
    "invoice.payment_failed": "payment_failed",
    "customer.subscription.deleted": "subscription_deleted",
}


def _refuse(message: str) -> web.Response:
    return web.json_response({"error": {"message": message}}, status=400)


def _signed_at(header: str) -> int | None:
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 20:
            return int(value)
    return None


class StripeWebhook:
    def __init__(self, hub: Hub, secret: str, *, max_body_bytes: int) -> None:
        self._hub = hub
        self._secret = secret
        self._max_body = max_body_bytes

    async def handle(self, request: web.Request) -> web.Response:
        # The header first: an unsigned or stale request is refused before its body is read.
        try:
            header = header_value(request.headers, "Stripe-Signature", max_len=4096)
        except InvalidField:
            return _refuse("The Stripe-Signature header is malformed.")
        signed = _signed_at(header)
        now = self._hub.clock.now().timestamp()
        if signed is None or abs(now - signed) > TOLERANCE_S:
            return _refuse("The Stripe-Signature timestamp is outside the five-minute window.")
        try:
            body = await read_body(request, limit=self._max_body)
        except BodyTooLarge as exc:
            return web.json_response({"error": {"message": exc.user_message}}, status=413)
        try:
            payload = body.decode("utf-8")
            # tolerance=0: the SDK checks the signature; the window is checked on our clock.
            event = stripe.Webhook.construct_event(payload, header, self._secret, tolerance=0)
        except (UnicodeDecodeError, ValueError):
            return _refuse("The body is not a Stripe event.")
        except stripe.SignatureVerificationError:
            return _refuse("The Stripe-Signature header does not match this body.")
        kind = KINDS.get(event.type)
        if kind is None:
            return web.json_response({"received": True, "ignored": event.type})
        customer = _customer_of(event.data.object)
        if not customer:
            return web.json_response({"received": True, "ignored": "no customer"})
        result = await self._hub.billing.accounts.apply_payment_event(
            event_id=event.id,
            kind=kind,
            customer_id=customer,
            occurred_at=datetime.fromtimestamp(event.created, UTC),
        )
        log.info("stripe event %s (%s) for %s: %s", event.id, event.type, customer, result)
        return web.json_response({"received": True, "result": result})


def _customer_of(obj: Any) -> str | None:
    """The customer id of an invoice or subscription (a string, or an expanded object)."""
    customer = obj["customer"] if "customer" in obj else None
    if isinstance(customer, str):
        return customer
    found = getattr(customer, "id", None)
    return found if isinstance(found, str) else None
