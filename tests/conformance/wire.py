"""Writing recorded exchanges in the providers' documented wire formats, from a short account
of an answer (what `cases.py` says each case is).

OpenAI: a stream of `chat.completion.chunk` objects as the API sends them with
`stream_options.include_usage` (role first, content and tool-call argument pieces, a finish
chunk per choice, then the usage chunk), and the plain `chat.completion` the API answers
for the same answer. Anthropic: the Messages API's event stream.

The two OpenAI forms are written independently from the account, so the hub assembling a
plain response from the stream is checked against the plain form, not against itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CREATED = 1_760_000_000
JSON = dict[str, Any]


@dataclass
class Call:
    id: str
    name: str
    pieces: tuple[str, ...]  # the arguments, as the stream splits them

    @property
    def arguments(self) -> str:
        return "".join(self.pieces)


@dataclass
class Choice:
    pieces: tuple[str, ...] = ()  # content, as the stream splits it
    calls: tuple[Call, ...] = ()
    refusal: tuple[str, ...] = ()
    finish: str = "stop"
    logprobs: tuple[JSON, ...] | None = None  # one token entry per content piece
    delta_extra: tuple[JSON, ...] = ()  # extra delta fields, one chunk each (reasoning_content)
    omit_index: bool = False  # the server leaves `index` out of the choice

    @property
    def content(self) -> str | None:
        return "".join(self.pieces) if self.pieces or not (self.calls or self.refusal) else None


@dataclass
class Answer:
    choices: tuple[Choice, ...]
    usage: JSON | None
    fingerprint: str | None = "fp_conformance"
    service_tier: str | None = None
    top_extra: JSON = field(default_factory=dict)  # unknown top-level fields
    usage_on_finish: bool = False  # usage rides on the finish chunk, no usage chunk
    keepalive: bool = False  # an empty `choices: []` chunk mid-stream


def _top(answer: Answer, obj: str) -> JSON:
    top: JSON = {
        "id": "chatcmpl-conformance",
        "object": obj,
        "created": CREATED,
        "model": "gpt-4o-mini-2024-07-18",
    }
    if answer.service_tier is not None:
        top["service_tier"] = answer.service_tier
    if answer.fingerprint is not None:
        top["system_fingerprint"] = answer.fingerprint
    return {**top, **answer.top_extra}


def openai_stream(answer: Answer) -> list[JSON]:
    chunks: list[JSON] = []

    def emit(
        index: int,
        choice: Choice,
        delta: JSON,
        finish: str | None = None,
        logprobs: JSON | None = None,
    ) -> None:
        item: JSON = {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        if choice.omit_index:
            del item["index"]
        chunks.append({**_top(answer, "chat.completion.chunk"), "choices": [item], "usage": None})

    for index, choice in enumerate(answer.choices):
        first: JSON = {"role": "assistant", "content": "" if choice.content is not None else None}
        first["refusal"] = None
        emit(index, choice, first)
        for extra in choice.delta_extra:
            emit(index, choice, extra)
        for n, piece in enumerate(choice.pieces):
            lp = None
            if choice.logprobs is not None:
                lp = {"content": [choice.logprobs[n]], "refusal": None}
            emit(index, choice, {"content": piece}, logprobs=lp)
        for piece in choice.refusal:
            emit(index, choice, {"refusal": piece})
        for k, call in enumerate(choice.calls):
            head = {
                "index": k,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            emit(index, choice, {"tool_calls": [head]})
            for piece in call.pieces:
                emit(
                    index, choice, {"tool_calls": [{"index": k, "function": {"arguments": piece}}]}
                )
        if answer.keepalive and index == 0:
            chunks.append({**_top(answer, "chat.completion.chunk"), "choices": [], "usage": None})
    for index, choice in enumerate(answer.choices):
        emit(index, choice, {}, choice.finish)
    if answer.usage is not None:
        if answer.usage_on_finish:
            chunks[-1]["usage"] = answer.usage
        else:
            chunks.append(
                {**_top(answer, "chat.completion.chunk"), "choices": [], "usage": answer.usage}
            )
    return chunks


def openai_response(answer: Answer) -> JSON:
    choices = []
    for index, choice in enumerate(answer.choices):
        message: JSON = {
            "role": "assistant",
            "content": choice.content,
            "refusal": "".join(choice.refusal) or None,
        }
        for extra in choice.delta_extra:
            for key, value in extra.items():
                message[key] = message.get(key, "") + value
        if choice.calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in choice.calls
            ]
        logprobs = None
        if choice.logprobs is not None:
            logprobs = {"content": list(choice.logprobs), "refusal": None}
        choices.append(
            {
                "index": index,
                "message": message,
                "logprobs": logprobs,
                "finish_reason": choice.finish,
            }
        )
    body = {**_top(answer, "chat.completion"), "choices": choices}
    if answer.usage is not None:
        body["usage"] = answer.usage
    return body


def openai_usage(prompt: int, completion: int, *, cached: int = 0, reasoning: int = 0) -> JSON:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


# -- Anthropic ------------------------------------------------------------------------------


@dataclass
class Block:
    kind: str  # "text", "tool_use", "thinking"
    pieces: tuple[str, ...] = ()  # text, or partial_json of the tool input
    id: str = ""
    name: str = ""


@dataclass
class Message:
    blocks: tuple[Block, ...]
    stop_reason: str = "end_turn"
    input_tokens: int = 10
    output_tokens: int = 5
    cache_read: int | None = None
    cache_write: int | None = None
    stop_sequence: str | None = None


def anthropic_events(message: Message) -> list[list[Any]]:
    usage: JSON = {"input_tokens": message.input_tokens, "output_tokens": 1}
    if message.cache_read is not None:
        usage["cache_read_input_tokens"] = message.cache_read
    if message.cache_write is not None:
        usage["cache_creation_input_tokens"] = message.cache_write
    start = {
        "id": "msg_conformance",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    events: list[list[Any]] = [["message_start", {"type": "message_start", "message": start}]]
    for index, block in enumerate(message.blocks):
        if block.kind == "text":
            head: JSON = {"type": "text", "text": ""}
            kind, field_name = "text_delta", "text"
        elif block.kind == "thinking":
            head = {"type": "thinking", "thinking": ""}
            kind, field_name = "thinking_delta", "thinking"
        else:
            head = {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}
            kind, field_name = "input_json_delta", "partial_json"
        events.append(
            [
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": head},
            ]
        )
        if index == 0:
            events.append(["ping", {"type": "ping"}])
        for piece in block.pieces:
            events.append(
                [
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": kind, field_name: piece},
                    },
                ]
            )
        if block.kind == "thinking":
            events.append(
                [
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "signature_delta", "signature": "sig"},
                    },
                ]
            )
        events.append(["content_block_stop", {"type": "content_block_stop", "index": index}])
    events.append(
        [
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": message.stop_reason,
                    "stop_sequence": message.stop_sequence,
                },
                "usage": {"output_tokens": message.output_tokens},
            },
        ]
    )
    events.append(["message_stop", {"type": "message_stop"}])
    return events


def twin_of(message: Message, *, json_tool: str | None = None) -> Answer:
    """The OpenAI answer an Anthropic message amounts to, as the hub should hand it over."""
    text = tuple(p for b in message.blocks if b.kind == "text" for p in b.pieces)
    json_text = tuple(
        p for b in message.blocks if b.kind == "tool_use" and b.name == json_tool for p in b.pieces
    )
    calls = tuple(
        Call(id=b.id, name=b.name, pieces=b.pieces)
        for b in message.blocks
        if b.kind == "tool_use" and b.name != json_tool
    )
    finish = {
        "end_turn": "stop",
        "stop_sequence": "stop",
        "max_tokens": "length",
        "tool_use": "tool_calls",
        "refusal": "content_filter",
    }[message.stop_reason]
    if finish == "tool_calls" and not calls:
        finish = "stop"
    read, write = message.cache_read or 0, message.cache_write or 0
    usage = {
        "prompt_tokens": message.input_tokens + read + write,
        "completion_tokens": message.output_tokens,
        "total_tokens": message.input_tokens + read + write + message.output_tokens,
        "prompt_tokens_details": {"cached_tokens": read},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    return Answer(
        choices=(Choice(pieces=text + json_text or ("",), calls=calls, finish=finish),),
        usage=usage,
        fingerprint=None,
    )


def anthropic_error(kind: str, message: str) -> JSON:
    return {"type": "error", "error": {"type": kind, "message": message}}


def openai_error(
    message: str, kind: str, *, code: str | None = None, param: str | None = None
) -> JSON:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
