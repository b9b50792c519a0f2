"""JSON out on the request path: orjson where it can, the standard library where it cannot.

orjson is several times faster and writes compact JSON. It refuses what the standard library
accepts: integers beyond 64 bits, lone surrogates, mapping types that are not dicts; those
fall back to `json.dumps`, so nothing the hub wrote before is refused now. Reading stays with
the standard library: orjson turns integers beyond 64 bits into floats, silently.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, separators=(",", ":"), default=_default).encode()


def dumps_str(value: Any) -> str:
    return dumps(value).decode()


def _default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)  # as orjson writes them: every field, in order
    if hasattr(value, "keys"):
        return dict(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
