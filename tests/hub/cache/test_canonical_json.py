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

from hub.cache.key import (
    cache_key,
    canonical_json,
    canonical_request,
    orjson_written,
    stdlib_written,
)
from hub.model import (
    NO_PARAMS,
    Caller,
    ChatOptions,
    ChatParams,
    ChatRequest,
    Message,
    Origin,
    ResponseFormat,
    Tool,
)
from hub.prompt_hash import prompt_hash

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


PLAIN_DIGEST = "81233db9da1f12d41a8ed558344ccb9deb5cadebf2cca4bb5a723e9aa1963061"
RICH_DIGEST = "23b866f03711a268395809f1ef64ea8b4f44704e427a2ab48a4bb66c3f3f0829"


def test_the_digests_stored_before_stay_the_same() -> None:
    """Usage records keep these digests for months (hub/prompt_hash.py): written by the key's
    code as of 7eadf67, they must not move when the canonical form is built another way
    (the shared empty parameters, the options and the body in one pass each)."""
    caller, origin = Caller(team_id=1, team_name="acme"), Origin("openai_api", "u1")
    text = "Say hello in five words."
    plain = ChatRequest(
        caller=caller,
        origin=origin,
        messages=(Message.text("user", text),),
        model="gpt",
        options=ChatOptions(stream=False),
        openai_body={
            "model": "gpt",
            "messages": [{"role": "user", "content": text}],
            "stream": False,
        },
    )
    rich = ChatRequest(
        caller=caller,
        origin=origin,
        messages=(Message.text("system", "Be brief, café."), Message.text("user", "hi")),
        options=ChatOptions(max_tokens=50, temperature=1.0, top_p=0.5, stop=("\n",)),
        params=ChatParams(
            seed=7, logit_bias={"42": 1.5}, modalities=("text",), extra={"x": [1, None]}
        ),
        tools=(Tool(name="f", description="d", parameters={"type": "object"}),),
        response_format=ResponseFormat(type="json_object"),
    )
    assert plain.params is NO_PARAMS
    fresh = dataclasses.replace(plain, params=ChatParams())  # an empty bag of its own
    for request, digest in [(plain, PLAIN_DIGEST), (fresh, PLAIN_DIGEST), (rich, RICH_DIGEST)]:
        assert cache_key(request, alias="gpt", scope="team:1") == f"v1:team:1:gpt:{digest}"
        assert prompt_hash(request, alias="gpt") == digest[:32]
