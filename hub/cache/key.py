"""The cache key: a hash of the request's canonical form.

Everything that shapes the answer is in it: the alias, every message (roles, text, images by
content hash), and every option the request carries (sampling parameters, max_tokens, stop,
and whatever the model grows: tools, response_format, the parameter bag), taken from the
dataclass fields themselves so a new option cannot be forgotten. What does not shape the answer
is left out: who asks (caller, origin; the team enters through the scope instead), whether
the answer is streamed (`stream`, `stream_options`), and the hub's own instructions (the
cache bypass). Keys are scoped to the team unless the alias says `cache_scope = "global"`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from enum import Enum
from typing import Any

from hub.model import ChatRequest

# Fields of ChatRequest and its options that never change the answer.
NOT_IN_KEY = frozenset({"caller", "origin", "metadata", "model", "no_cache", "drop_unsupported"})
NOT_IN_KEY_OPTIONS = frozenset({"stream", "stream_options"})
KEY_VERSION = "1"


# Each dataclass's field names, looked up once: every usage record hashes its request
# (hub/prompt_hash.py), and `dataclasses.fields` per value was most of that time.
_FIELDS: dict[type, tuple[str, ...]] = {}
_AS_IS = frozenset({str, int, bool, type(None)})  # exactly these types: not enums, not floats


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _plain(value: Any) -> Any:
    """A JSON-able form of `value`, the same for equal values."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    # The exact types a request is made of first (each as the general rules below take it).
    if kind is dict:
        return {str(k): _plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_plain(v) for v in value]
    names = _FIELDS.get(kind)
    if names is not None:  # a dataclass seen before
        return {"~": kind.__name__, **{name: _plain(getattr(value, name)) for name in names}}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "~": kind.__name__,
            **{name: _plain(getattr(value, name)) for name in _field_names(kind)},
        }
    if isinstance(value, bytes):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # temperature 1 and 1.0 ask for the same thing
    return value


def canonical_request(request: ChatRequest, *, alias: str) -> dict[str, Any]:
    form: dict[str, Any] = {"alias": alias}
    for name in _field_names(type(request)):
        if name in NOT_IN_KEY:
            continue
        value = getattr(request, name)
        if name == "options":
            value = {
                option: getattr(value, option)
                for option in _field_names(type(value))
                if option not in NOT_IN_KEY_OPTIONS
            }
        if name == "openai_body" and value is not None:  # the client's body, as sent
            value = {k: v for k, v in value.items() if k not in NOT_IN_KEY_OPTIONS}
        form[name] = _plain(value)
    return form


def cache_key(request: ChatRequest, *, alias: str, scope: str) -> str:
    """`scope` is "team:<id>" or "global"."""
    canonical = json.dumps(
        canonical_request(request, alias=alias), sort_keys=True, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"v{KEY_VERSION}:{scope}:{alias}:{digest}"
