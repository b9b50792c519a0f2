"""hub/providers/openai_wire.py: the hand-written reader and the pydantic schema agree on
every chunk, valid or not: the same chunk, or the same refusal naming the same field; on
the recorded conformance chunks, the cases below, and generated chunks (hypothesis: valid
and invalid, big integers, unicode with lone surrogates, nulls, extra fields), read from
objects and from their JSON text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub import fastjson
from hub.model import ChatChunk, ChoiceDelta, ToolCallDelta, Usage
from hub.providers.openai_wire import MalformedChunk, read_chunk, validated_chunk

CASES = Path(__file__).parents[2] / "conformance" / "cases"

VALID: list[Any] = [
    {"choices": []},
    {},
    {"id": "x", "unknown": {"deep": [1]}, "choices": [{"delta": {}}]},
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
    {"choices": [{"index": 1, "delta": {"content": "hi", "refusal": None}, "logprobs": {}}]},
    {"choices": [{"delta": {"refusal": "no"}, "finish_reason": "stop"}]},
    {
        "choices": [
            {
                "delta": {
                    "tool_calls": [
                        {"id": "c1", "function": {"name": "f", "arguments": '{"a"'}},
                        {"index": 3, "function": None},
                        {"index": 4, "function": {"arguments": None}},
                    ]
                }
            }
        ]
    },
    {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}},
    {
        "usage": {
            "prompt_tokens": 9,
            "completion_tokens": 5,
            "prompt_tokens_details": {"cached_tokens": 2},
            "completion_tokens_details": {"reasoning_tokens": 1},
        }
    },
    {"usage": {"prompt_tokens_details": None, "completion_tokens_details": {}}},
    {"choices": None, "usage": None},
]

INVALID: list[Any] = [
    [],
    "chunk",
    {"choices": {}},
    {"choices": [1]},
    {"choices": [{"index": True}]},
    {"choices": [{"index": None}]},
    {"choices": [{"index": 1.0}]},
    {"choices": [{"delta": None}]},
    {"choices": [{"delta": []}]},
    {"choices": [{"delta": {"content": 5}}]},
    {"choices": [{"delta": {"role": False}}]},
    {"choices": [{"delta": {"tool_calls": {}}}]},
    {"choices": [{"delta": {"tool_calls": [{"index": "0"}]}}]},
    {"choices": [{"delta": {"tool_calls": [{"function": "f"}]}}]},
    {"choices": [{"delta": {"tool_calls": [{"function": {"name": 1}}]}}]},
    {"choices": [{"logprobs": []}]},
    {"choices": [{"finish_reason": 0}]},
    {"usage": []},
    {"usage": {"prompt_tokens": "3"}},
    {"usage": {"completion_tokens": 2.0}},
    {"usage": {"prompt_tokens": True}},
    {"usage": {"prompt_tokens_details": {"cached_tokens": "1"}}},
    {"usage": {"completion_tokens_details": []}},
]


def _recorded_chunks() -> list[Any]:
    """Every chunk the recorded OpenAI exchanges stream (tests/conformance/cases)."""
    chunks: list[Any] = []
    for path in sorted(CASES.glob("openai_*.json")):
        stream = json.loads(path.read_text()).get("upstream", {}).get("stream")
        chunks.extend(c for c in stream or () if isinstance(c, dict))
    return chunks


@pytest.mark.parametrize("payload", VALID + _recorded_chunks())
def test_valid_chunks_read_alike(payload: Any) -> None:
    assert read_chunk(payload) == validated_chunk(payload)


@pytest.mark.parametrize("payload", INVALID)
def test_invalid_chunks_are_refused_alike(payload: Any) -> None:
    with pytest.raises(MalformedChunk) as fast:
        read_chunk(payload)
    with pytest.raises(MalformedChunk) as schema:
        validated_chunk(payload)
    assert str(fast.value) == str(schema.value)


def test_a_chunk_is_read_whole() -> None:
    payload = {
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": "Hi", "tool_calls": [{"id": "t"}]},
                "logprobs": {"content": []},
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 7, "completion_tokens": 2},
    }
    assert read_chunk(payload, more=True) == ChatChunk(
        choices=(
            ChoiceDelta(
                index=0,
                text="Hi",
                role="assistant",
                tool_calls=(ToolCallDelta(index=0, id="t"),),
                logprobs={"content": []},
                finish_reason="tool_calls",
            ),
        ),
        usage=Usage(prompt_tokens=7, completion_tokens=2),
        wire=payload,
    )
    assert read_chunk(payload, more=True).more


# --- generated chunks: near the schema, each field sometimes of another JSON type ---

SEEDED = settings(max_examples=600, derandomize=True, database=None, deadline=None)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**80),  # past 64 bits
    st.integers(min_value=-(2**80), max_value=-(2**63) + 2),
    st.floats(),  # NaN and the infinities included: json.loads reads them
    st.text(st.characters(codec=None, exclude_categories=())),  # surrogates too
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)
extra_fields = st.dictionaries(st.text(max_size=8), json_values, max_size=2)


def _near(right: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the schema's type (or null), sometimes any JSON value."""
    return st.one_of(right, right, st.none(), json_values)


def _object(
    fields: dict[str, st.SearchStrategy[Any]], extra: bool = True
) -> st.SearchStrategy[Any]:
    known = st.fixed_dictionaries({}, optional=fields)
    if not extra:
        return known
    return st.builds(lambda a, b: {**b, **a}, known, extra_fields)


texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=6)
counts = st.integers(min_value=-3, max_value=2**70)
functions = _object({"name": _near(texts), "arguments": _near(texts)})
tool_calls = _object(
    {"index": _near(counts), "id": _near(texts), "type": _near(texts), "function": _near(functions)}
)
deltas = _object(
    {
        "role": _near(st.sampled_from(["assistant", "tool", ""]) | texts),
        "content": _near(texts),
        "refusal": _near(texts),
        "tool_calls": _near(st.lists(_near(tool_calls), max_size=3)),
    }
)
choices = _object(
    {
        "index": _near(counts),
        "delta": _near(deltas),
        "logprobs": _near(st.dictionaries(st.text(max_size=4), json_values, max_size=2)),
        "finish_reason": _near(st.sampled_from(["stop", "length", "tool_calls"]) | texts),
    }
)
usages = _object(
    {
        "prompt_tokens": _near(counts),
        "completion_tokens": _near(counts),
        "total_tokens": _near(counts),
        "prompt_tokens_details": _near(_object({"cached_tokens": _near(counts)})),
        "completion_tokens_details": _near(_object({"reasoning_tokens": _near(counts)})),
    }
)
chunks = st.one_of(
    _object({"choices": _near(st.lists(_near(choices), max_size=3)), "usage": _near(usages)}),
    json_values,  # not even an object, now and then
)


def _verdict(read: Any, payload: Any) -> str:
    """The chunk read, or the refusal's message; repr spells every type out (1, 1.0, True)."""
    try:
        return repr(read(payload))
    except MalformedChunk as exc:
        return f"refused: {exc}"


@SEEDED
@given(chunks)
def test_generated_chunks_read_alike(payload: Any) -> None:
    assert _verdict(read_chunk, payload) == _verdict(validated_chunk, payload)


@SEEDED
@given(chunks, st.booleans())
def test_generated_chunks_read_from_their_text_alike(payload: Any, ascii_only: bool) -> None:
    """The hub's path from the upstream's text (fastjson.loads, read_chunk) against the
    standard library's json.loads and the pydantic models: same verdict, same value, and
    the same `wire` object for the client, big integers and NaN included."""
    text = json.dumps(payload, ensure_ascii=ascii_only)
    assert _verdict(read_chunk, fastjson.loads(text)) == _verdict(validated_chunk, json.loads(text))
