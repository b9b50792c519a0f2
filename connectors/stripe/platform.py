"""Stripe as the hub's payment platform: a customer per team, one billing meter event per
usage record and token type.

Meter events carry the hub's deterministic identifier, and the same identifier is the
request's Idempotency-Key: a resend within Stripe's idempotency window is answered with the
first answer, and later Stripe refuses the identifier as a duplicate (400
`duplicate_meter_event`), which counts as delivered.
"""

from __future__ import annotations

import stripe

from connectors.stripe.client import build_client
from hub.billing.platform import MeterEvent, MeterOutcome
from hub.config import StripeSettings
from hub.errors import PaymentPlatformError


def _is_duplicate(exc: stripe.StripeError) -> bool:
    message = str(getattr(exc, "user_message", None) or exc).lower()
    return exc.code == "duplicate_meter_event" or "already exists with identifier" in message


def classify(exc: stripe.StripeError) -> MeterOutcome:
    """A Stripe error as an export outcome (one place for the mapping)."""
    status = exc.http_status
    error = f"{type(exc).__name__} {status or ''}: {exc.user_message or exc}".strip()[:500]
    if isinstance(exc, stripe.InvalidRequestError) and _is_duplicate(exc):
        return MeterOutcome("duplicate", status_code=status)
    if isinstance(exc, stripe.RateLimitError):
        headers = exc.headers or {}
        retry = headers.get("Retry-After") or headers.get("retry-after")
        seconds = float(retry) if retry and retry.strip().isdigit() else None
        return MeterOutcome("retry", error=error, retry_after=seconds, status_code=status)
    if isinstance(exc, stripe.APIConnectionError | stripe.APIError):
        return MeterOutcome("retry", error=error, status_code=status)
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        # A key problem is fixed in the configuration; the events wait for it.
        return MeterOutcome("retry", error=error, status_code=status)
    if status is not None and status >= 500:
        return MeterOutcome("retry", error=error, status_code=status)
    return MeterOutcome("rejected", error=error, status_code=status)


class StripePlatform:
    name = "stripe"

    def __init__(self, settings: StripeSettings) -> None:
        self._settings = settings
        self._client, self._http = build_client(settings)

    async def ensure_customer(self, *, team_id: int, team_name: str, email: str, name: str) -> str:
        """Create the team's customer; the idempotency key makes a retried create one
        customer, not two."""
        params: stripe.params.CustomerCreateParams = {
            "name": name or team_name,
            "metadata": {"hub_team_id": str(team_id), "hub_team": team_name},
        }
        if email:
            params["email"] = email
        try:
            customer = await self._client.v1.customers.create_async(
                params, options={"idempotency_key": f"unillm-hub-customer-team-{team_id}"}
            )
        except stripe.StripeError as exc:
            raise PaymentPlatformError(
                f"Stripe did not create a customer for team '{team_name}' "
                f"({exc.user_message or type(exc).__name__}). The plan is recorded; subscribe "
                "again to retry, or map an existing customer with "
                f"`hub team billing {team_name} --stripe-customer cus_...`.",
                detail=str(exc),
            ) from exc
        return str(customer.id)

    async def send_meter_event(self, event: MeterEvent) -> MeterOutcome:
        try:
            await self._client.v1.billing.meter_events.create_async(
                {
                    "event_name": self._settings.meter_event_name,
                    "identifier": event.identifier,
                    "timestamp": int(event.timestamp.timestamp()),
                    "payload": {
                        "stripe_customer_id": event.customer_id,
                        "value": str(event.value),
                        "token_type": event.token_type,
                        "model": event.model,
                    },
                },
                options={"idempotency_key": event.identifier},
            )
        except stripe.StripeError as exc:
            return classify(exc)
        return MeterOutcome("accepted", status_code=200)

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]
