"""Interaction signatures: Ed25519 over timestamp + raw body, checked before anything else.

Discord sends deliberately invalid probes; every failure (missing header, bad hex, wrong key,
stale or future timestamp) is the same answer: not verified, 401, no side effect.
"""

from __future__ import annotations

from datetime import datetime

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

# Discord documents no replay window; five minutes bounds how long a captured request is
# worth anything to someone replaying it.
MAX_SKEW_S = 300.0


class InteractionVerifier:
    def __init__(self, public_key_hex: str) -> None:
        self._key = VerifyKey(bytes.fromhex(public_key_hex))

    def verify(
        self, *, signature: str | None, timestamp: str | None, body: bytes, now: datetime
    ) -> bool:
        if not signature or not timestamp or not timestamp.isdigit():
            return False
        if abs(now.timestamp() - int(timestamp)) > MAX_SKEW_S:
            return False
        try:
            raw_signature = bytes.fromhex(signature)
        except ValueError:
            return False
        if len(raw_signature) != 64:
            return False
        try:
            self._key.verify(timestamp.encode() + body, raw_signature)
        except BadSignatureError:
            return False
        return True
