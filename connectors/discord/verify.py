"""Interaction signatures: Ed25519 over timestamp + raw body, checked before anything else.

Discord sends deliberately invalid probes; every failure (missing header, bad hex, wrong key,
stale or future timestamp, a "timestamp" of `²` or 5,000 digits) is the same answer: not
verified, 401, no side effect. The headers are checked before the body is read
(`signed_headers`), the signature over the body after (`check`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

# Discord documents no replay window; five minutes bounds how long a captured request is
# worth anything to someone replaying it.
MAX_SKEW_S = 300.0
_SIGNATURE = re.compile(r"[0-9a-fA-F]{128}")  # 64 bytes in hex
_TIMESTAMP = re.compile(r"[0-9]{1,20}")  # ASCII digits only: "²".isdigit() is True


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    timestamp: str
    signature: bytes


def signed_headers(
    *, signature: str | None, timestamp: str | None, now: datetime
) -> SignedHeaders | None:
    """The two headers when they could be Discord's and are fresh, else None."""
    if not signature or not timestamp or not _TIMESTAMP.fullmatch(timestamp):
        return None
    if not _SIGNATURE.fullmatch(signature):
        return None
    if abs(now.timestamp() - int(timestamp)) > MAX_SKEW_S:
        return None
    return SignedHeaders(timestamp, bytes.fromhex(signature))


class InteractionVerifier:
    def __init__(self, public_key_hex: str) -> None:
        self._key = VerifyKey(bytes.fromhex(public_key_hex))

    def check(self, signed: SignedHeaders, body: bytes) -> bool:
        try:
            self._key.verify(signed.timestamp.encode() + body, signed.signature)
        except BadSignatureError:
            return False
        return True

    def verify(
        self, *, signature: str | None, timestamp: str | None, body: bytes, now: datetime
    ) -> bool:
        signed = signed_headers(signature=signature, timestamp=timestamp, now=now)
        return signed is not None and self.check(signed, body)
