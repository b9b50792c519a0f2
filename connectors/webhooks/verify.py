"""Standard Webhooks verification of an inbound request, before its body is even parsed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hub.clock import Clock
from hub.errors import AuthError, InvalidField
from hub.events.signing import ClockedWebhook, WebhookVerificationError
from hub.untrusted import digits, header_value

REQUIRED = ("webhook-id", "webhook-timestamp", "webhook-signature")
# Several rotated signatures ("v1,<base64> v1,<base64>") fit easily.
MAX_HEADER_LEN = 1024


def signature_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The Standard Webhooks headers, lower-cased, checked before the body is read: present,
    printable ASCII and of a sane length; AuthError otherwise."""
    lowered = {k.lower(): v for k, v in headers.items() if k.lower() in REQUIRED}
    missing = [name for name in REQUIRED if not lowered.get(name)]
    if missing:
        raise AuthError(
            f"Missing {', '.join(missing)} header: sign requests with the Standard Webhooks "
            "scheme and this hook's secret."
        )
    try:
        for name in REQUIRED:
            header_value(lowered, name, max_len=MAX_HEADER_LEN)
        digits(lowered["webhook-timestamp"], field="webhook-timestamp", max_digits=20)
    except InvalidField as exc:
        raise AuthError(f"The {exc.field} header is malformed: {exc.user_message}") from exc
    return lowered


def verify_request(
    body: bytes, headers: Mapping[str, str], *, secrets: Sequence[str], clock: Clock
) -> str:
    """The webhook-id, once the body verifies with one of `secrets`; AuthError otherwise."""
    lowered = signature_headers(headers)
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
