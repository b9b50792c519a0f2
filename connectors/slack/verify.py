"""Slack request signatures (v0 HMAC-SHA256 over `v0:timestamp:body`), checked before parsing.

https://api.slack.com/authentication/verifying-requests-from-slack

In two steps, so the body is read only for a request whose headers could be Slack's:
`signed_headers` (present, ASCII, bounded, fresh) before the body, `check_signature` after.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from hub.errors import InvalidField
from hub.untrusted import digits, header_value

MAX_AGE_S = 5 * 60
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class SignatureError(Exception):
    """The request was not signed by Slack with our signing secret, or is too old."""


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    timestamp: str
    signature: str


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(headers: Mapping[str, str], *, now: float) -> SignedHeaders:
    """The signature headers, when they could be Slack's and are fresh; SignatureError else."""
    try:
        timestamp = header_value(headers, "X-Slack-Request-Timestamp", max_len=20)
        signature = header_value(headers, "X-Slack-Signature", max_len=80)
    except InvalidField as exc:
        raise SignatureError(f"malformed {exc.field} header") from exc
    if not timestamp or not signature:
        raise SignatureError("missing signature headers")
    try:
        sent_at = digits(timestamp, field="X-Slack-Request-Timestamp", max_digits=20)
    except InvalidField as exc:
        raise SignatureError("malformed timestamp") from exc
    # A replayed request outside the window is refused even with a valid signature.
    if abs(now - sent_at) > MAX_AGE_S:
        raise SignatureError("stale timestamp")
    if not _SIGNATURE.fullmatch(signature):
        raise SignatureError("bad signature")  # not even the shape of one
    return SignedHeaders(timestamp, signature)


def check_signature(secret: str, signed: SignedHeaders, body: bytes) -> None:
    if not hmac.compare_digest(sign(secret, signed.timestamp, body), signed.signature):
        raise SignatureError("bad signature")


def verify_request(*, secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Raise SignatureError unless the headers carry a fresh, valid signature of `body`."""
    check_signature(secret, signed_headers(headers, now=now), body)
