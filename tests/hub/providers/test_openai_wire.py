"""hub/providers/openai_wire.py: the hand-written reader and the pydantic schema agree on
every chunk, valid or not: the same chunk, or the same refusal naming the same field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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
