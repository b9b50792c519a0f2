"""Reading OpenAI chat-completion chunks: typed, lenient where servers differ, strict where a
wrong type would corrupt the ledger. A chunk that does not fit is a malformed response."""

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


def read_chunk(payload: Any) -> ChatChunk:
    """The chunk as the hub reads it, with the payload kept as `wire` for the client."""
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
