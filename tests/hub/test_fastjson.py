"""hub/fastjson.py: `loads` reads what `json.loads` reads, value for value and type for type
(an integer stays an integer to its last digit, -0.0 stays -0.0, NaN stays NaN), and refuses
what it refuses; `dumps` writes what the standard library would parse back to the value."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub import fastjson

SEEDED = settings(max_examples=400, derandomize=True, database=None, deadline=None)


def tagged(value: Any) -> Any:
    """The value with every type spelled out: 1, 1.0 and True differ; NaN equals NaN."""
    if isinstance(value, bool) or value is None:
        return ("const", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, list):
        return ("list", [tagged(v) for v in value])
    assert type(value) is dict
    return ("dict", [(k, tagged(v)) for k, v in value.items()])


def outcome(load: Any, text: str) -> Any:
    try:
        return ("read", tagged(load(text)))
    except ValueError:
        return ("refused",)


# JSON text written by hand, so numbers come in every spelling the grammar allows (and a few
# it does not), strings with escapes, lone surrogates and raw non-ASCII, and odd whitespace.
numbers = st.one_of(
    st.from_regex(r"\A-?(0|[1-9][0-9]{0,26})(\.[0-9]{1,22})?([eE][+-]?[0-9]{1,3})?\Z"),
    st.integers().map(str),
    st.integers(min_value=2**62, max_value=2**66).map(str),
    st.integers(min_value=-(2**66), max_value=-(2**62)).map(str),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-0", "-0.0", "01", "1.", ".5"]),
)
strings = st.builds(
    lambda text, ascii_only: json.dumps(text, ensure_ascii=ascii_only),
    st.text(st.characters(codec=None, exclude_categories=())),  # surrogates included
    st.booleans(),
)
spaces = st.sampled_from(["", " ", "\n", "\t", "\r\n  "])
scalars = st.one_of(numbers, strings, st.sampled_from(["true", "false", "null"]))


def _array(items: list[str], pad: str) -> str:
    return "[" + pad + ("," + pad).join(items) + "]"


def _object(pairs: list[tuple[str, str]], pad: str) -> str:
    return "{" + ",".join(f"{pad}{key}{pad}:{value}" for key, value in pairs) + pad + "}"


texts = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.builds(_array, st.lists(inner, max_size=4), spaces),
        st.builds(_object, st.lists(st.tuples(strings, inner), max_size=4), spaces),
    ),
    max_leaves=12,
)


@SEEDED
@given(texts, spaces)
def test_loads_reads_what_json_loads_reads(text: str, pad: str) -> None:
    document = pad + text + pad
    assert outcome(fastjson.loads, document) == outcome(json.loads, document)


@SEEDED
@given(texts, st.integers(min_value=0), st.sampled_from(["", "x", ",", "}", "]", '"', "\\"]))
def test_loads_refuses_what_json_loads_refuses(text: str, at: int, extra: str) -> None:
    cut = at % (len(text) + 1)
    broken = text[:cut] + extra + text[cut + 1 :]
    assert outcome(fastjson.loads, broken) == outcome(json.loads, broken)


@pytest.mark.parametrize(
    "text",
    [
        '{"tokens": 18446744073709551616}',  # one past 64 bits: orjson would make it a float
        '{"tokens": -9223372036854775809}',
        '{"tokens": 123456789012345678901234567890}',
        '{"x": NaN, "y": Infinity, "z": 1e400}',
        '{"s": "\\ud800"}',
        '{"n": 1.5e-320, "m": -0.0, "k": 1E+2}',
        '{"text": "order 1234567890123456789012"}',  # digits in a string: read the slow way
    ],
)
def test_loads_keeps_what_orjson_would_change_or_refuse(text: str) -> None:
    assert outcome(fastjson.loads, text) == outcome(json.loads, text)
    assert outcome(fastjson.loads, text)[0] == "read"
