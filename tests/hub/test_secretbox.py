"""The secret box encrypts, refuses to exist without a key, and rotates keys."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from hub.store.secretbox import SecretBox, SecretBoxError


def test_round_trip_and_rotation() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox([old]).encrypt("xoxb-bot-token")
    assert "xoxb" not in token
    rotated_box = SecretBox([new, old])
    assert rotated_box.decrypt(token) == "xoxb-bot-token"
    rotated = rotated_box.rotate(token)
    assert SecretBox([new]).decrypt(rotated) == "xoxb-bot-token"
    with pytest.raises(SecretBoxError):
        SecretBox([new]).decrypt(token)


def test_no_key_no_box() -> None:
    with pytest.raises(SecretBoxError, match="No secret key"):
        SecretBox([])
    with pytest.raises(SecretBoxError, match="not a valid Fernet key"):
        SecretBox(["short"])
