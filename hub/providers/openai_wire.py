"""Reading OpenAI chat-completion chunks: typed, lenient where servers differ, strict where a
wrong type would corrupt the ledger. A chunk that does not fit is a malformed response.

The pydantic models below are the schema. Every chunk of every streamed answer is read, so
`read_chunk` checks the same types by hand (exact `int`, `str`, `list`, `dict`: what strict
mode accepts from JSON) and builds the chunk in one pass, about a third of the CPU of
validating into models and copying out of them; a chunk that fails a check is validated by
the models, whose error names the field (tests/hub/providers/test_openai_wire.py holds the
two readers to the same verdicts).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.model import ChatChunk, ChoiceDelta, ToolCallDelta, Usage


class _Wire(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class WireFunction(_Wire):
    name: str | None = None
    arguments: str | None = None


class WireToolCall(_Wire):
    index: int | None = None  # some servers leave it out
    id: str | None = None
    function: WireFunction | None = None


class WireDelta(_Wire):
    role: str | None = None
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[WireToolCall] | None = None


class WireChoice(_Wire):
    index: int = 0
    delta: WireDelta = Field(default_factory=WireDelta)
    logprobs: dict[str, Any] | None = None
    finish_reason: str | None = None


class WirePromptDetails(_Wire):
    cached_tokens: int | None = None


class WireCompletionDetails(_Wire):
    reasoning_tokens: int | None = None


class WireUsage(_Wire):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: WirePromptDetails | None = None
    completion_tokens_details: WireCompletionDetails | None = None

    def usage(self) -> Usage:
        prompt = self.prompt_tokens_details
        completion = self.completion_tokens_details
        return Usage(
            prompt_tokens=self.prompt_tokens or 0,
            completion_tokens=self.completion_tokens or 0,
            cached_tokens=(prompt.cached_tokens or 0) if prompt else 0,
            reasoning_tokens=(completion.reasoning_tokens or 0) if completion else 0,
        )


class WireChunk(_Wire):
    choices: list[WireChoice] | None = None
    usage: WireUsage | None = None


class MalformedChunk(ValueError):
    """The upstream sent JSON that is not a chat-completion chunk."""


class _Mismatch(Exception):
    """The fast reader found a value the schema refuses: the models say which and why."""


def read_chunk(payload: Any, *, more: bool = False) -> ChatChunk:
    """The chunk as the hub reads it, with the payload kept as `wire` for the client; `more`:
    another chunk of the same network read follows (ChatChunk.more)."""
    if not isinstance(payload, dict):
        raise MalformedChunk("a chunk that is not a JSON object")
    try:
        # Positional (choices, usage, wire, response_id, response_model, more), as above.
        return ChatChunk(
            _choices(payload["choices"]) if "choices" in payload else (),
            _usage(payload["usage"]) if "usage" in payload else None,
            payload,
            None,
            None,
            more,
        )
    except _Mismatch:
        pass
    chunk = validated_chunk(payload)
    return ChatChunk(choices=chunk.choices, usage=chunk.usage, wire=payload, more=more)


def _text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    raise _Mismatch


def _int(value: Any) -> int | None:
    if value is None or type(value) is int:
        return value
    raise _Mismatch


def _object(value: Any) -> dict[str, Any]:
    if type(value) is dict:
        return value
    raise _Mismatch


def _choices(choices: Any) -> tuple[ChoiceDelta, ...]:
    if choices is None:
        return ()
    if type(choices) is not list:
        raise _Mismatch
    # Gathered in a tuple as they are read: an append and a tuple() a chunk fewer than a
    # list (a chunk has one choice, or n of them: n is small).
    read: tuple[ChoiceDelta, ...] = ()
    for choice in choices:
        # The object checks inline too, as `_object` makes them (two calls a chunk fewer).
        if type(choice) is not dict:
            raise _Mismatch
        # `in` and a subscript rather than `get`: no call for a field the chunk has or not.
        index = choice["index"] if "index" in choice else 0
        if type(index) is not int:
            raise _Mismatch
        delta = choice["delta"] if "delta" in choice else _EMPTY
        if type(delta) is not dict:
            raise _Mismatch
        logprobs = choice["logprobs"] if "logprobs" in choice else None
        if logprobs is not None and type(logprobs) is not dict:
            raise _Mismatch
        # The string fields checked inline (a call each was a fifth of reading a chunk). A
        # delta of content alone (nearly every chunk of an answer) is read without lookups.
        if len(delta) == 1 and "content" in delta:
            text, role, refusal, calls = delta["content"], None, None, None
        else:
            calls = delta.get("tool_calls")
            text, role, refusal = delta.get("content"), delta.get("role"), delta.get("refusal")
        finish = choice["finish_reason"] if "finish_reason" in choice else None
        # Each checked in place (a loop over a tuple of the four cost a tenth of the read).
        if text is not None and type(text) is not str:
            raise _Mismatch
        if finish is not None and type(finish) is not str:
            raise _Mismatch
        if role is not None and type(role) is not str:
            raise _Mismatch
        if refusal is not None and type(refusal) is not str:
            raise _Mismatch
        # Positional, in the fields' order (index, text, role, refusal, tool_calls,
        # logprobs, finish_reason): 0.17 against 0.41 µs with keywords, for every chunk;
        # test_openai_wire holds the result to the pydantic models' field by field.
        calls_read = () if calls is None else _tool_calls(calls)
        read += (ChoiceDelta(index, text or "", role, refusal or "", calls_read, logprobs, finish),)
    return read


_EMPTY: dict[str, Any] = {}


def _tool_calls(calls: Any) -> tuple[ToolCallDelta, ...]:
    if type(calls) is not list:
        raise _Mismatch
    read: list[ToolCallDelta] = []
    for position, item in enumerate(calls):
        call = _object(item)
        index = _int(call.get("index"))
        function = call.get("function")
        if function is not None:
            function = _object(function)
        read.append(
            ToolCallDelta(
                index=position if index is None else index,
                id=_text(call.get("id")),
                name=_text(function.get("name")) if function is not None else None,
                arguments=(_text(function.get("arguments")) or "") if function is not None else "",
            )
        )
    return tuple(read)


def _usage(value: Any) -> Usage | None:
    if value is None:
        return None
    usage = _object(value)
    prompt = usage.get("prompt_tokens_details")
    completion = usage.get("completion_tokens_details")
    cached = _int(_object(prompt).get("cached_tokens")) if prompt is not None else None
    reasoning = (
        _int(_object(completion).get("reasoning_tokens")) if completion is not None else None
    )
    return Usage(
        prompt_tokens=_int(usage.get("prompt_tokens")) or 0,
        completion_tokens=_int(usage.get("completion_tokens")) or 0,
        cached_tokens=cached or 0,
        reasoning_tokens=reasoning or 0,
    )


def validated_chunk(payload: Any) -> ChatChunk:
    """The chunk read through the pydantic models (the schema): the error names the field."""
    if not isinstance(payload, dict):
        raise MalformedChunk("a chunk that is not a JSON object")
    try:
        chunk = WireChunk.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MalformedChunk(f"{where}: {first['msg']}") from None
    return ChatChunk(
        choices=tuple(_choice(c) for c in chunk.choices or ()),
        usage=chunk.usage.usage() if chunk.usage is not None else None,
        wire=payload,
    )


def _choice(choice: WireChoice) -> ChoiceDelta:
    delta = choice.delta
    return ChoiceDelta(
        index=choice.index,
        text=delta.content or "",
        role=delta.role,
        refusal=delta.refusal or "",
        tool_calls=tuple(
            ToolCallDelta(
                index=call.index if call.index is not None else position,
                id=call.id,
                name=call.function.name if call.function else None,
                arguments=(call.function.arguments or "") if call.function else "",
            )
            for position, call in enumerate(delta.tool_calls or ())
        ),
        logprobs=choice.logprobs,
        finish_reason=choice.finish_reason,
    )
