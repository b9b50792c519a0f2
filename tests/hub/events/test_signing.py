"""Signing and the clocked verification window, cross-checked with the plain package."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from hub.clock import FakeClock
from hub.events.signing import (
    ClockedWebhook,
    WebhookVerificationError,
    new_webhook_secret,
    signed_headers,
)


def test_secret_format() -> None:
    secret = new_webhook_secret()
    assert secret.startswith("whsec_")
    Webhook(secret)  # the package accepts it
    assert secret != new_webhook_secret()


def test_headers_verify_with_the_package_at_real_time() -> None:
    secret = new_webhook_secret()
    headers = signed_headers(secret, msg_id="evt_1", body='{"a":1}', now=datetime.now(UTC))
    assert Webhook(secret).verify('{"a":1}', headers) == {"a": 1}


@pytest.mark.parametrize(("offset", "ok"), [(-299, True), (299, True), (-301, False), (301, False)])
def test_window_follows_the_hub_clock(offset: int, ok: bool) -> None:
    clock = FakeClock()  # days away from the system clock
    secret = new_webhook_secret()
    signed_at = FakeClock(clock.now())
    signed_at.advance(offset)
    headers = signed_headers(secret, msg_id="m", body="{}", now=signed_at.now())
    hook = ClockedWebhook(secret, clock)
    if ok:
        hook.verify_body(b"{}", headers)
    else:
        with pytest.raises(WebhookVerificationError):
            hook.verify_body(b"{}", headers)


def test_malformed_signature_is_a_verification_error() -> None:
    clock = FakeClock()
    headers = {
        "webhook-id": "m",
        "webhook-timestamp": str(int(clock.now().timestamp())),
        "webhook-signature": "garbage",
    }
    with pytest.raises(WebhookVerificationError):
        ClockedWebhook(new_webhook_secret(), clock).verify_body(b"{}", headers)
