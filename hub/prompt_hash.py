"""A request's hash: what the response cache would key it by (hub/cache/key.py), without the
team scope, so a usage record can say "the same request as before" without keeping the text.
Cost suggestions count repeats by it (hub/suggestions.py)."""

from __future__ import annotations

import hashlib

from hub.cache.key import canonical_json
from hub.model import ChatRequest

LENGTH = 32  # hex digits: 128 bits


def prompt_hash(request: ChatRequest, *, alias: str, cache_key: str | None = None) -> str:
    """The hash of the request's canonical form for `alias`; from the cache's key when the
    cache computed it already (its last part is the same SHA-256)."""
    if cache_key is not None:
        return cache_key.rsplit(":", 1)[-1][:LENGTH]
    # As cache_key writes it, so that both give the same digest.
    return hashlib.sha256(canonical_json(request, alias=alias)).hexdigest()[:LENGTH]
