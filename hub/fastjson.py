"""JSON on the request path: orjson where it can, the standard library where it cannot.

orjson is several times faster and writes compact JSON. It refuses what the standard library
accepts: integers beyond 64 bits, lone surrogates, mapping types that are not dicts; those
fall back to `json.dumps`, so nothing the hub wrote before is refused now.

Reading (`loads`, for the upstream's stream chunks) is orjson's where orjson reads exactly
what `json.loads` reads, the standard library's otherwise. orjson refuses NaN, Infinity,
numbers that overflow a double and escaped lone surrogates (`json.loads` takes them: the
refusal falls back), and it silently turns integers beyond 64 bits into floats: text with 19
digits in a row (every integer that does not fit has at least 19; a string's digits may
trigger it too, harmlessly) is read by `json.loads` from the start. The client therefore
receives the same values, down to an integer's last digit (tests/hub/test_fastjson.py).
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


def orjson_reads_alike(text: str) -> bool:
    """False when orjson could read `text` differently from the standard library (a run of
    19 digits: an integer past 64 bits, which orjson would turn into a float)."""
    return _NINETEEN_DIGITS not in text.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_ZERO)


def bytes_read_alike(data: bytes) -> bool:
    """`orjson_reads_alike` for the UTF-8 bytes a text is decoded from (the digits are the
    same bytes), without encoding it again."""
    return _NINETEEN_DIGITS not in data.translate(_DIGITS_AS_ZERO)


def loads(text: str) -> Any:
    """What `json.loads(text)` returns (and raises: a `ValueError`), faster."""
    if not orjson_reads_alike(text):
        return json.loads(text)
    return loads_alike(text)


def loads_alike(text: str) -> Any:
    """`loads` for text that `orjson_reads_alike` passed already (checked with others: the
    chunks of one network read are checked once, joined; a run of digits that only the
    joining made falls back to checking each)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN, 1e999, "\\ud800": json.loads takes some of them
        return json.loads(text)


# Every ASCII digit as "0", everything else as " ": a run of 19 digits is then a substring,
# found in C (a regular expression took longer than the parse it guards).
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_NINETEEN_DIGITS = b"0" * 19


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
