"""Standard Webhooks verification of an inbound request, before its body is even parsed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hub.clock import Clock
from hub.errors import AuthError
from hub.events.signing import ClockedWebhook, WebhookVerificationError

REQUIRED = ("webhook-id", "webhook-timestamp", "webhook-signature")


def verify_request(
    body: bytes, headers: Mapping[str, str], *, secrets: Sequence[str], clock: Clock
) -> str:
    """The webhook-id, once the body verifies with one of `secrets`; AuthError otherwise."""
    lowered = {k.lower(): v for k, v in headers.items()}
    missing = [name for name in REQUIRED if not lowered.get(name)]
    if missing:
        raise AuthError(
            f"Missing {', '.join(missing)} header: sign requests with the Standard Webhooks "
            "scheme and this hook's secret."
        )
    for secret in secrets:
        try:
            ClockedWebhook(secret, clock).verify_body(body, lowered)
        except WebhookVerificationError as exc:
            if "timestamp" in str(exc):
                # Same for every secret: no need to try the others.
                raise AuthError(
                    "The webhook-timestamp is more than 5 minutes away from the hub's clock; "
                    "sign with the current time."
                ) from exc
            continue
        return lowered["webhook-id"]
    raise AuthError("The webhook signature does not match this hook's secret.")
