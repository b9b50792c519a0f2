"""Sticky assignment: one person, one thread or one team always lands on the same choice.

The identifier is hashed (BLAKE2b, salted with what is being chosen) to a number in [0, 1);
the same identifier gives the same number in every process and after every restart, and
different salts (aliases, experiments) spread the same people independently.
"""

from __future__ import annotations

import hashlib

from hub.model import ChatRequest
from hub.routing.settings import Sticky

_SCALE = float(2**64)


def sticky_identifier(request: ChatRequest, sticky: Sticky) -> str | None:
    """What to keep together; None when nothing is (`none`, or the request lacks it)."""
    origin, caller = request.origin, request.caller
    if sticky == "user":
        if origin.user:
            return f"user:{origin.connector}:{origin.workspace or ''}:{origin.user}"
        if caller.member_id is not None:
            return f"member:{caller.member_id}"
        return f"key:{caller.key_id}" if caller.key_id is not None else None
    if sticky == "thread":
        place = origin.thread or origin.channel
        if place:
            return f"thread:{origin.connector}:{origin.workspace or ''}:{place}"
        return sticky_identifier(request, "user")  # an API call is its own conversation
    if sticky == "team":
        return f"team:{caller.team_id}"
    return None


def stable_fraction(identifier: str, salt: str) -> float:
    """A number in [0, 1), the same for the same identifier and salt everywhere."""
    digest = hashlib.blake2b(identifier.encode(), digest_size=8, key=salt.encode()[:64]).digest()
    return int.from_bytes(digest, "big") / _SCALE
