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

import orjson

from hub.model import NO_PARAMS, ChatRequest

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
    # Most fields are None, str or int: taken as they are without a call each.
    as_is = _AS_IS
    if kind is dict:
        return {str(k): v if type(v) in as_is else _plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [v if type(v) in as_is else _plain(v) for v in value]
    names = _FIELDS.get(kind)
    if names is not None:  # a dataclass seen before
        form = {"~": kind.__name__}
        for name in names:
            v = getattr(value, name)
            form[name] = v if type(v) in as_is else _plain(v)
        return form
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "~": kind.__name__,
            **{name: _plain(getattr(value, name)) for name in _field_names(kind)},
        }
    if isinstance(value, bytes):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, Enum):
        return _settled(value.value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # temperature 1 and 1.0 ask for the same thing
    return _settled(value)


class _AsStdlibWrites:
    """A value orjson would write differently from `json.dumps` (or write where it refuses):
    orjson refuses this wrapper, so `canonical_json` falls back to the standard library,
    which writes the value inside as it always did (`_unwrapped`)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _settled(value: Any) -> Any:
    """`value` as is when orjson writes it exactly as `json.dumps` does; else wrapped."""
    kind = type(value)
    if kind in _AS_IS or (kind is float and orjson.dumps(value) == repr(value).encode()):
        return value  # (floats: 1e16 is "1e16" to orjson, "1e+16" to json; NaN is null)
    return _AsStdlibWrites(value)


def _unwrapped(value: Any) -> Any:
    if isinstance(value, _AsStdlibWrites):
        return value.value
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# orjson's own forms for these are not json.dumps's: they reach `_refused` and fall back.
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _refused(value: Any) -> Any:
    raise TypeError


_NO_PARAMS_FORM = _plain(NO_PARAMS)


def canonical_json(request: ChatRequest, *, alias: str) -> bytes:
    """The canonical form's bytes exactly as the standard library writes them (the digests
    stored across a month must not move): by orjson when its bytes are the same, 5x faster,
    by `json.dumps` otherwise."""
    form = canonical_request(request, alias=alias)
    fast = orjson_written(form)
    return fast if fast is not None else stdlib_written(form)


def stdlib_written(form: dict[str, Any]) -> bytes:
    """What the key has always hashed: `json.dumps`, sorted and compact."""
    return json.dumps(form, sort_keys=True, separators=(",", ":"), default=_unwrapped).encode()


def orjson_written(form: dict[str, Any]) -> bytes | None:
    """`stdlib_written(form)` by orjson, or None where its bytes could differ. They are the
    same for what both write alike (str, int within 64 bits, bool, None, floats whose repr
    orjson shares, dicts with str keys, lists) when the output is ASCII without DEL:
    json.dumps escapes whatever is not printable ASCII, orjson writes UTF-8 and a raw DEL
    and escapes the rest alike (tests/hub/cache/test_canonical_json.py)."""
    try:
        fast = orjson.dumps(form, default=_refused, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: a wrapped value, a big int, a deep tree...
        return None
    return fast if fast.isascii() and b"\x7f" not in fast else None


def canonical_request(request: ChatRequest, *, alias: str) -> dict[str, Any]:
    form: dict[str, Any] = {"alias": alias}
    as_is = _AS_IS
    for name in _keyed_names(type(request)):
        value = getattr(request, name)
        if name == "options":
            form[name] = _options_form(value)
        elif name == "params" and value is NO_PARAMS:
            # Most requests share it: its form once (orjson only reads it; `extra` is `{}`
            # in both, so one shared empty dict is what a fresh form would hold).
            form[name] = _NO_PARAMS_FORM
        elif name == "openai_body" and value is not None:  # the client's body, as sent
            form[name] = {
                str(k): v if type(v) in as_is else _plain(v)
                for k, v in value.items()
                if k not in NOT_IN_KEY_OPTIONS
            }
        else:
            form[name] = value if type(value) in as_is else _plain(value)
    return form


# The fields that enter the key, per request class and per options class.
_KEYED: dict[type, tuple[str, ...]] = {}
_KEYED_OPTIONS: dict[type, tuple[str, ...]] = {}


def _keyed_names(cls: type) -> tuple[str, ...]:
    """The fields of a request that shape the answer, in their declared order."""
    names = _KEYED.get(cls)
    if names is None:
        names = _KEYED[cls] = tuple(n for n in _field_names(cls) if n not in NOT_IN_KEY)
    return names


def _options_form(options: Any) -> dict[str, Any]:
    """The options as `_plain` writes a dict of them, minus those that do not shape the
    answer; one pass (no dict of the options to copy again)."""
    kind = type(options)
    names = _KEYED_OPTIONS.get(kind)
    if names is None:
        names = _KEYED_OPTIONS[kind] = tuple(
            n for n in _field_names(kind) if n not in NOT_IN_KEY_OPTIONS
        )
    as_is = _AS_IS
    form: dict[str, Any] = {}
    for name in names:
        v = getattr(options, name)
        form[name] = v if type(v) in as_is else _plain(v)
    return form


def cache_key(request: ChatRequest, *, alias: str, scope: str) -> str:
    """`scope` is "team:<id>" or "global"."""
    digest = hashlib.sha256(canonical_json(request, alias=alias)).hexdigest()
    return f"v{KEY_VERSION}:{scope}:{alias}:{digest}"
