"""Anthropic Messages API, streamed, translated to and from OpenAI's shapes
(the request: `anthropic_body.py`).

Usage in `message_delta` is cumulative: each one states the totals so far, so the last value
wins and nothing is summed. Cache reads and writes are input tokens too: `prompt_tokens` is
input + cache read + cache creation, as OpenAI counts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from hub import fastjson
from hub.clock import Clock, SystemClock
from hub.config import DeploymentSettings, ProviderSettings
from hub.errors import ProviderError
from hub.model import ChatChunk, ChatRequest, ChoiceDelta, ToolCallDelta, Usage
from hub.providers.anthropic_body import JSON_TOOL, answers_as_json, request_body, unsupported
from hub.providers.transport import ProviderTransport
from hub.providers.upstream import (
    SseEvent,
    StreamProgress,
    UpstreamErrors,
    raise_for_status,
    sse_batches,
)

STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# Error types inside an `event: error`, as the HTTP status they would have had.
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


class _Translation:
    """Anthropic's stream events as OpenAI-shaped chunks: content blocks become content or
    tool-call deltas (numbered in order, as OpenAI numbers calls), usage is tallied."""

    def __init__(self, request: ChatRequest) -> None:
        self.json_answer = answers_as_json(request)
        self.input_tokens = 0
        self.cache_read = 0
        self.cache_write = 0
        self.output_tokens = 0
        self.stop_reason: str | None = None
        self._calls: dict[int, int] = {}  # content block index -> tool call index
        self._json_blocks: set[int] = set()
        self._used_tools = False

    def usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        if usage.get("input_tokens") is not None:
            self.input_tokens = _count(usage, "input_tokens")
        if usage.get("cache_read_input_tokens") is not None:
            self.cache_read = _count(usage, "cache_read_input_tokens")
        if usage.get("cache_creation_input_tokens") is not None:
            self.cache_write = _count(usage, "cache_creation_input_tokens")
        if usage.get("output_tokens") is not None:
            self.output_tokens = _count(usage, "output_tokens")

    def block_start(self, index: int, block: Any) -> ChoiceDelta | None:
        if not isinstance(block, dict):
            raise ValueError("content_block is not an object")
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            return ChoiceDelta(text=str(block["text"]))
        if kind != "tool_use":
            return None  # thinking blocks and server tools stay with Anthropic
        if self.json_answer and block.get("name") == JSON_TOOL:
            self._json_blocks.add(index)
            return None
        self._used_tools = True
        call = self._calls.setdefault(index, len(self._calls))
        delta = ToolCallDelta(index=call, id=str(block.get("id")), name=str(block.get("name")))
        return ChoiceDelta(tool_calls=(delta,))

    def block_delta(self, index: int, delta: Any) -> ChoiceDelta | None:
        if not isinstance(delta, dict):
            raise ValueError("delta is not an object")
        kind = delta.get("type")
        if kind == "text_delta":
            return ChoiceDelta(text=_text(delta, "text")) if delta.get("text") else None
        if kind != "input_json_delta" or not delta.get("partial_json"):
            return None
        fragment = _text(delta, "partial_json")
        if index in self._json_blocks:
            return ChoiceDelta(text=fragment)
        if index not in self._calls:
            return None
        return ChoiceDelta(
            tool_calls=(ToolCallDelta(index=self._calls[index], arguments=fragment),)
        )

    def final_chunk(self) -> ChatChunk:
        reason = self.stop_reason or "end_turn"
        finish = STOP_REASONS.get(reason, reason)
        if finish == "tool_calls" and not self._used_tools:
            finish = "stop"  # the forced response_format tool: the answer is the content
        usage = Usage(
            prompt_tokens=self.input_tokens + self.cache_read + self.cache_write,
            completion_tokens=self.output_tokens,
            cached_tokens=self.cache_read,
            cache_write_tokens=self.cache_write,
        )
        return ChatChunk(choices=(ChoiceDelta(finish_reason=finish),), usage=usage)


def _count(usage: dict[str, Any], name: str) -> int:
    value = usage[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"usage.{name} is not a token count")
    return value


def _text(delta: dict[str, Any], name: str) -> str:
    value = delta[name]
    if not isinstance(value, str):
        raise ValueError(f"delta.{name} is not a string")
    return value


class AnthropicProvider:
    def __init__(
        self,
        settings: ProviderSettings,
        transport: ProviderTransport,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._clock = clock or SystemClock()

    def unsupported(self, deployment: DeploymentSettings, request: ChatRequest) -> list[str]:
        return unsupported(request)

    async def stream(
        self,
        deployment: DeploymentSettings,
        request: ChatRequest,
        *,
        max_tokens: int | None,
        api_key: str | None = None,
    ) -> AsyncIterator[ChatChunk]:
        key = api_key or self._settings.api_key
        headers = {
            "Accept": "text/event-stream",
            "anthropic-version": self._settings.anthropic_version,
        }
        if key:
            headers["x-api-key"] = key
        errors = UpstreamErrors(self._settings.name, key, base_url=self._settings.base_url)
        progress = StreamProgress()
        translation = _Translation(request)
        body = request_body(
            request,
            model=deployment.model,
            # Anthropic requires a limit: the client's or the hub's cap, else the deployment's.
            max_tokens=max_tokens
            if max_tokens is not None
            else deployment.output_limit("anthropic"),
        )
        stopped = False
        with errors.translated(progress):
            async with self._transport.post(
                f"{self._settings.base_url}/v1/messages", fastjson.dumps(body), headers
            ) as response:
                await raise_for_status(response, errors, progress, self._clock.now())
                async for events in sse_batches(response):
                    chunks: list[ChatChunk] = []
                    try:
                        for event in events:
                            payload = _payload(event, errors)
                            kind = event.event if event.event != "message" else payload.get("type")
                            if kind == "error":
                                raise stream_error(errors, payload)
                            if kind == "message_stop":
                                stopped = True
                                break
                            chunk = _translate(translation, kind, payload, errors)
                            if chunk is not None:
                                chunks.append(chunk)
                    finally:  # what came before a failure in the same read still goes out
                        for chunk in chunks[:-1]:  # one network read, one write to the client
                            yield chunk.but_more_follow()
                        if chunks:
                            yield chunks[-1]
                    if stopped:
                        break
        if not stopped:
            raise errors.cut("stream ended before message_stop")
        yield translation.final_chunk()


def _payload(event: SseEvent, errors: UpstreamErrors) -> dict[str, Any]:
    try:
        payload = fastjson.loads(event.data)
    except ValueError:
        raise errors.malformed("unreadable stream data") from None
    if not isinstance(payload, dict):
        raise errors.malformed("an event that is not a JSON object")
    return payload


def _translate(
    translation: _Translation, kind: Any, payload: dict[str, Any], errors: UpstreamErrors
) -> ChatChunk | None:
    try:
        return _read_event(translation, kind, payload)
    except (ValueError, TypeError, KeyError) as exc:
        raise errors.malformed(f"{kind}: {exc}") from None


def _read_event(translation: _Translation, kind: Any, payload: dict[str, Any]) -> ChatChunk | None:
    if kind == "message_start":
        message = payload.get("message")
        named = message if isinstance(message, dict) else {}
        translation.usage(named.get("usage"))
        return ChatChunk(
            choices=(ChoiceDelta(role="assistant"),),
            response_id=str(named["id"]) if named.get("id") else None,
            response_model=str(named["model"]) if named.get("model") else None,
        )
    choice: ChoiceDelta | None = None
    if kind == "content_block_start":
        choice = translation.block_start(int(payload["index"]), payload.get("content_block"))
    elif kind == "content_block_delta":
        choice = translation.block_delta(int(payload["index"]), payload.get("delta"))
    elif kind == "message_delta":
        translation.usage(payload.get("usage"))
        delta = payload.get("delta")
        reason = delta.get("stop_reason") if isinstance(delta, dict) else None
        translation.stop_reason = reason or translation.stop_reason
    return ChatChunk(choices=(choice,)) if choice is not None else None


def stream_error(errors: UpstreamErrors, payload: Any) -> ProviderError:
    """An `event: error` mid-stream: overloaded and API errors are retryable, others are not."""
    error = payload.get("error") if isinstance(payload, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    status = ERROR_STATUS.get(str(kind), 500)
    if status >= 500:
        return errors.in_stream(payload)
    return errors.for_status(status, json.dumps(payload).encode(), None)
