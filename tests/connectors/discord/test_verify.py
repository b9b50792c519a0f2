"""Ed25519 verification of interactions, as Discord signs them."""

from __future__ import annotations

from datetime import UTC, datetime

from nacl.encoding import HexEncoder
from nacl.signing import SigningKey

from connectors.discord.verify import InteractionVerifier

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
BODY = b'{"type":1}'


def signed(key: SigningKey, timestamp: str, body: bytes = BODY) -> str:
    return key.sign(timestamp.encode() + body).signature.hex()


def test_accepts_only_a_fresh_signature_by_the_application_key() -> None:
    key = SigningKey.generate()
    verifier = InteractionVerifier(key.verify_key.encode(HexEncoder).decode())
    now = str(int(NOW.timestamp()))

    def check(signature: str | None, timestamp: str | None, body: bytes = BODY) -> bool:
        return verifier.verify(signature=signature, timestamp=timestamp, body=body, now=NOW)

    assert check(signed(key, now), now)
    assert not check(signed(SigningKey.generate(), now), now)
    assert not check(signed(key, now), now, b'{"type":2}')
    stale = str(int(NOW.timestamp()) - 301)
    assert not check(signed(key, stale), stale)
    assert check(signed(key, str(int(NOW.timestamp()) - 299)), str(int(NOW.timestamp()) - 299))
    assert not check(None, now)
    assert not check(signed(key, now), None)
    assert not check("not hex", now)
    assert not check(signed(key, now)[:-2], now)
    assert not check(signed(key, now), "12.5")
