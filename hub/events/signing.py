"""Standard Webhooks signing and verification, on the hub's clock.

The `standardwebhooks` package checks the timestamp window against the system clock. The hub
keeps all time on `hub.clock` (a fake one in tests), so `ClockedWebhook` swaps in that clock
for the 5-minute window and leaves everything else to the package: header parsing, the
multi-signature header, and the constant-time comparison.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from hub.clock import Clock

SECRET_PREFIX = "whsec_"
TOLERANCE = timedelta(minutes=5)

__all__ = ["ClockedWebhook", "WebhookVerificationError", "new_webhook_secret", "signed_headers"]


def new_webhook_secret() -> str:
    """`whsec_` and base64 of 32 random bytes, the format the spec and its libraries expect."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class ClockedWebhook(Webhook):
    def __init__(self, secret: str, clock: Clock) -> None:
        super().__init__(secret)
        self._clock = clock

    # The package's private timestamp check (`self.__verify_timestamp`, name-mangled); tests
    # sign with the fake clock's time, so they fail loudly if a package upgrade renames it.
    def _Webhook__verify_timestamp(self, timestamp_header: str) -> datetime:
        try:
            timestamp = datetime.fromtimestamp(float(timestamp_header), tz=self._clock.now().tzinfo)
        except (ValueError, OverflowError, OSError) as exc:
            raise WebhookVerificationError("Invalid Signature Headers") from exc
        now = self._clock.now()
        if timestamp < now - TOLERANCE:
            raise WebhookVerificationError("Message timestamp too old")
        if timestamp > now + TOLERANCE:
            raise WebhookVerificationError("Message timestamp too new")
        return timestamp

    def verify_body(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise WebhookVerificationError unless `body` is signed by this secret, now."""
        try:
            self.verify(body, dict(headers), json_parse=False)
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            # Malformed signature lists or bodies are failed verifications, not crashes.
            raise WebhookVerificationError("Malformed signature or body") from exc


def signed_headers(secret: str, *, msg_id: str, body: str, now: datetime) -> dict[str, Any]:
    """The three Standard Webhooks headers for `body`, signed at `now`."""
    signature = Webhook(secret).sign(msg_id=msg_id, timestamp=now, data=body)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
