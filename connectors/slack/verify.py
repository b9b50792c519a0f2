"""Slack request signatures (v0 HMAC-SHA256 over `v0:timestamp:body`), checked before parsing.

https://api.slack.com/authentication/verifying-requests-from-slack
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

MAX_AGE_S = 5 * 60


class SignatureError(Exception):
    """The request was not signed by Slack with our signing secret, or is too old."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_request(*, secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Raise SignatureError unless the headers carry a fresh, valid signature of `body`."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp or not signature:
        raise SignatureError("missing signature headers")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise SignatureError("malformed timestamp") from exc
    # A replayed request outside the window is refused even with a valid signature.
    if abs(now - sent_at) > MAX_AGE_S:
        raise SignatureError("stale timestamp")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise SignatureError("bad signature")
