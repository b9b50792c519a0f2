"""Encryption for values the hub must read back: bot tokens, webhook secrets, provider keys.

MultiFernet lets operators rotate `HUB_SECRET_KEY`: put the new key first, keep the old ones
after it, and run `hub rotate-secrets` to re-encrypt stored values under the new key.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretBoxError(RuntimeError):
    pass


class SecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise SecretBoxError(
                "No secret key: set HUB_SECRET_KEY (a Fernet key; `make run` writes one to "
                "var/secret-key). The hub will not store secrets in clear."
            )
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except ValueError as exc:
            raise SecretBoxError(
                "HUB_SECRET_KEY is not a valid Fernet key (32 url-safe base64 bytes)"
            ) from exc

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretBoxError("a stored secret cannot be decrypted with the given keys") from exc

    def rotate(self, token: str) -> str:
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretBoxError(
                "a stored secret cannot be decrypted with the given keys: keep the old key "
                "after the new one in HUB_SECRET_KEY (new,old) while rotating"
            ) from exc
