"""The cache key's and the prompt hash's bytes: orjson writes them only where they are the
standard library's, byte for byte, so every digest stored before stays the same."""

from __future__ import annotations

import dataclasses
import json
import math
from enum import Enum
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.cache.key import canonical_json, canonical_request, orjson_written, stdlib_written
from hub.model import Caller, ChatOptions, ChatParams, ChatRequest, Message, Origin

SEEDED = settings(max_examples=400, derandomize=True, database=None, deadline=None)

# Text of every kind: ASCII with control characters and DEL, any Unicode, lone surrogates.
TEXT = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF)) | st.text(
    st.characters(min_codepoint=0, max_codepoint=0x7F)
)
NUMBERS = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e16, 1e-5, 1e-7, 0.1, 1.5e300, 5e-324, -0.0, 123456789012345680.0])
)
JSON = st.recursive(
    st.none() | st.booleans() | NUMBERS | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


class Tone(Enum):
    CALM = 0.25
    LOUD = 1e-7


@st.composite
def requests(draw: st.DrawFn) -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=1, team_name="acme"),
        origin=Origin(connector="openai_api", user="u1"),
        messages=tuple(
            Message.text(draw(st.sampled_from(["user", "system"])), draw(TEXT))
            for _ in range(draw(st.integers(1, 3)))
        ),
        model="gpt",
        options=ChatOptions(
            temperature=draw(st.none() | NUMBERS),
            max_tokens=draw(st.none() | st.integers(1, 2**70)),
            stop=tuple(draw(st.lists(TEXT, max_size=2))),
        ),
        params=ChatParams(extra=draw(st.dictionaries(TEXT, JSON | st.sampled_from(list(Tone))))),
        openai_body=draw(st.none() | st.dictionaries(TEXT, JSON, max_size=5)),
    )


@SEEDED
@given(requests(), TEXT)
def test_orjson_writes_the_standard_library_s_bytes_or_leaves_it_to_it(
    request: ChatRequest, alias: str
) -> None:
    form = canonical_request(request, alias=alias)
    fast = orjson_written(form)
    assert fast is None or fast == stdlib_written(form)
    assert canonical_json(request, alias=alias) == stdlib_written(form)


def unwrapped_form(value: Any) -> Any:
    """The canonical form as the code before orjson built it: plain values throughout."""
    if isinstance(value, dict):
        return {k: unwrapped_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrapped_form(v) for v in value]
    if type(value).__module__ == "hub.cache.key":  # a value the standard library must write
        return unwrapped_form(value.value)
    return value


@SEEDED
@given(requests())
def test_the_standard_library_writes_what_it_always_did(request: ChatRequest) -> None:
    form = canonical_request(request, alias="gpt")
    before = json.dumps(unwrapped_form(form), sort_keys=True, separators=(",", ":"))
    assert stdlib_written(form) == before.encode()


def test_an_ordinary_request_is_written_by_orjson() -> None:
    request = ChatRequest(
        caller=Caller(team_id=1, team_name="acme"),
        origin=Origin(connector="openai_api", user="u1"),
        messages=(Message.text("user", 'Say "hello"\n\tin five words.'),),
        options=ChatOptions(temperature=0.7, top_p=1.0, stop=("\n",)),
        openai_body={"messages": [{"role": "user", "content": "hi"}], "temperature": 0.7},
    )
    form = canonical_request(request, alias="gpt")
    assert orjson_written(form) == stdlib_written(form)
    # What it leaves: text beyond ASCII, DEL, a float orjson writes its own way, an integer
    # past 64 bits (1.5e300, as the integer it is), NaN.
    for odd in ("café", "\x7f", 1e-7, 1.5e300, math.nan):
        changed = dataclasses.replace(request, openai_body={"content": odd})
        form = canonical_request(changed, alias="gpt")
        assert orjson_written(form) is None
        assert canonical_json(changed, alias="gpt") == stdlib_written(form)
