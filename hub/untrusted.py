"""Reading untrusted input: bounded before it is converted, typed, and refused by name.

Everything a client or a platform sends passes through one of these before the hub uses it:

- `header_value`: ASCII, printable and bounded (non-UTF-8 bytes reach aiohttp's headers as
  lone surrogates; a 5,000-character signature is not a signature);
- `digits`: a decimal number of bounded length, ASCII only (`"²".isdigit()` is True, and
  `int()` of thousands of digits is slow before it is refused);
- `json_int`: a JSON integer in a range; `true` is not 1;
- `load_json`: strict UTF-8 JSON, nested at most `max_depth` deep (Python's parser would
  raise RecursionError), no NaN or Infinity, integers of bounded length, and no string (key or
  value) holding a NUL or a lone surrogate, which no database stores and no HTTP client
  encodes; the refusal names the field (`messages[0].content`);
- `check_text`: the same rule for one string.

Each refusal is an `InvalidField` (400) naming what was wrong; callers that must answer 401
instead (signatures, keys) catch it and say "not verified".
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from typing import Any

import orjson

from hub import fastjson
from hub.errors import InvalidField

MAX_JSON_DEPTH = 64
# A token count beyond 2^31 - 1 is no real limit, and would overflow the ledger's counters.
MAX_TOKENS = 2**31 - 1
MAX_INT_DIGITS = 40  # a 128-bit integer has 39 digits; more is no id, count or amount
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_PRINTABLE = frozenset(range(0x20, 0x7F)) | {0x09}
_COUNTED_UP_TO = 8192  # characters


def header_value(headers: Mapping[str, str], name: str, *, max_len: int) -> str:
    """The header's value, "" when absent; InvalidField unless printable ASCII of at most
    `max_len` characters."""
    value = headers.get(name, "")
    if len(value) > max_len:
        raise InvalidField(name, f"The {name} header is longer than {max_len} characters.")
    if not value.isascii() or not _PRINTABLE.issuperset(value.encode("ascii")):
        raise InvalidField(name, f"The {name} header must be printable ASCII.")
    return value


def digits(text: str, *, field: str, max_digits: int) -> int:
    """A non-negative decimal integer of 1 to `max_digits` ASCII digits."""
    if not 0 < len(text) <= max_digits or not text.isascii() or not text.isdigit():
        raise InvalidField(
            field, f"'{field}' must be a whole number of at most {max_digits} digits."
        )
    return int(text)


def json_int(value: Any, *, field: str, low: int, high: int) -> int:
    """A JSON integer from `low` to `high`; booleans, floats and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidField(field, f"'{field}' must be an integer from {low} to {high}.")
    return value


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored or sent on, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (invalid Unicode)"
    return None


def check_text(value: str, *, field: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise InvalidField(field, f"'{field}' {problem}.")
    return value


def load_json(raw: bytes | str, *, field: str = "body", max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse a JSON document from an untrusted source; InvalidField naming what is wrong."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
        data = _parse(text)
    except UnicodeDecodeError as exc:
        raise InvalidField(field, f"The {field} is not UTF-8 text.") from exc
    except RecursionError as exc:
        raise InvalidField(field, f"The {field} is nested deeper than {max_depth} levels.") from exc
    except ValueError as exc:  # JSONDecodeError and our hooks' refusals
        raise InvalidField(field, f"The {field} is not valid JSON: {exc}") from exc
    _check_tree(data, text=text, field=field, max_depth=max_depth)
    return data


def _parse(text: str) -> Any:
    """`_decoder().decode(text)`, by orjson where it reads the same (4.6 -> 2.6 µs for a
    small chat body): what orjson refuses (NaN, Infinity, a number that overflows a double,
    an escaped lone surrogate, a syntax error) is read, and refused or not, by the strict
    decoder, so the values and the refusals are its own (tests/hub/test_untrusted.py)."""
    if fastjson.orjson_reads_alike(text):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return _decoder().decode(text)


def _check_tree(data: Any, *, text: str, field: str, max_depth: int) -> None:
    # Iterative, so a deep document cannot exhaust the stack here either. Nothing nests
    # deeper than the text has brackets (those in strings only add to the count): a short
    # body, most chat requests, is counted in C instead of walked (str.count of a long text
    # takes longer than the walk of its few containers).
    short = len(text) <= _COUNTED_UP_TO
    if (not short or text.count("{") + text.count("[") > max_depth) and _depth(data) > max_depth:
        raise InvalidField(field, f"The {field} is nested deeper than {max_depth} levels.")
    # Strictly decoded UTF-8 holds no surrogate and JSON strings hold no raw NUL, so only an
    # escape can smuggle one in; most documents have none and skip the second walk.
    if _SUSPECT_ESCAPE.search(text) is None:
        return
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem is not None:
                name = _shown(path) or field
                raise InvalidField(name, f"'{name}' {problem}.")
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = text_problem(key)
                if problem is not None:
                    name = _shown(path) or field
                    raise InvalidField(name, f"A key in '{name}' {problem}.")
                stack.append((item, f"{path}.{key}" if path else key))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(value))


def _depth(data: Any) -> int:
    """How deeply containers nest (a scalar: 0), level by level."""
    deepest, level = 0, [data] if isinstance(data, dict | list) else []
    while level:
        deepest += 1
        below: list[Any] = []
        for value in level:
            for child in value.values() if isinstance(value, dict) else value:
                if isinstance(child, dict | list):
                    below.append(child)
        level = below
    return deepest


def _shown(path: str) -> str:
    # Field names come from the client: long ones are cut so the answer stays small.
    return path if len(path) <= 200 else path[:197] + "..."


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} does not fit a 64-bit number")
    return value


@functools.cache
def _decoder() -> json.JSONDecoder:
    # Built once: `json.loads` with hooks makes a new decoder (and its scanner) per call,
    # and every chat request's body comes through here.
    return json.JSONDecoder(
        parse_constant=_no_constant, parse_int=_bounded_int, parse_float=_finite_float
    )
