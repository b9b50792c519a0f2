"""Anthropic Messages API, streamed.

Usage in `message_delta` is cumulative: each one states the totals so far, so the last value
wins and nothing is summed.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from hub.clock import Clock, SystemClock
from hub.config import DeploymentSettings, ProviderSettings
from hub.errors import ProviderError
from hub.model import ChatChunk, ChatRequest, ContentPart, TextPart, Usage
from hub.providers.upstream import (
    StreamProgress,
    UpstreamErrors,
    raise_for_status,
    sse_events,
)

STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
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


def content_block(part: ContentPart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if part.data is not None:
        source = {
            "type": "base64",
            "media_type": part.media_type,
            "data": base64.b64encode(part.data).decode(),
        }
    else:
        source = {"type": "url", "url": part.url or ""}
    return {"type": "image", "source": source}


def request_body(
    deployment: DeploymentSettings, request: ChatRequest, *, max_tokens: int
) -> dict[str, Any]:
    system = "\n\n".join(m.plain_text for m in request.messages if m.role == "system")
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            continue
        blocks = [
            content_block(p)
            for p in message.content
            if not (isinstance(p, TextPart) and not p.text)
        ]
        if messages and messages[-1]["role"] == message.role:
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": message.role, "content": blocks})
    options = request.options
    body: dict[str, Any] = {
        "model": deployment.model,
        "max_tokens": max_tokens,
        "messages": messages,
        "stream": True,
    }
    if system:
        body["system"] = system
    if options.temperature is not None:
        body["temperature"] = options.temperature
    if options.top_p is not None:
        body["top_p"] = options.top_p
    if options.stop:
        body["stop_sequences"] = list(options.stop)
    return body


class _Tally:
    """Usage as the stream reports it; later values replace earlier ones."""

    def __init__(self) -> None:
        self.input_tokens = 0
        self.output_tokens = 0
        self.stop_reason: str | None = None

    def update(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        if usage.get("input_tokens") is not None:
            cached = (usage.get("cache_creation_input_tokens") or 0) + (
                usage.get("cache_read_input_tokens") or 0
            )
            self.input_tokens = int(usage["input_tokens"]) + int(cached)
        if usage.get("output_tokens") is not None:
            self.output_tokens = int(usage["output_tokens"])

    def final_chunk(self) -> ChatChunk:
        reason = self.stop_reason or "end_turn"
        return ChatChunk(
            usage=Usage(prompt_tokens=self.input_tokens, completion_tokens=self.output_tokens),
            finish_reason=STOP_REASONS.get(reason, reason),
        )


class AnthropicProvider:
    def __init__(
        self,
        settings: ProviderSettings,
        client: httpx.AsyncClient,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._settings = settings
        self._client = client
        self._clock = clock or SystemClock()

    async def stream(
        self,
        deployment: DeploymentSettings,
        request: ChatRequest,
        *,
        max_tokens: int,
        api_key: str | None = None,
    ) -> AsyncIterator[ChatChunk]:
        key = api_key or self._settings.api_key
        headers = {
            "Accept": "text/event-stream",
            "anthropic-version": self._settings.anthropic_version,
        }
        if key:
            headers["x-api-key"] = key
        errors = UpstreamErrors(self._settings.name, key)
        progress = StreamProgress()
        tally = _Tally()
        stopped = False
        with errors.translated(progress):
            async with self._client.stream(
                "POST",
                f"{self._settings.base_url}/v1/messages",
                json=request_body(deployment, request, max_tokens=max_tokens),
                headers=headers,
                timeout=httpx.Timeout(self._settings.timeout_s),
            ) as response:
                await raise_for_status(response, errors, progress, self._clock.now())
                async for event in sse_events(response.aiter_lines()):
                    try:
                        payload = json.loads(event.data)
                    except ValueError:
                        raise errors.cut("unreadable stream data") from None
                    kind = event.event if event.event != "message" else payload.get("type")
                    if kind == "message_start":
                        tally.update((payload.get("message") or {}).get("usage"))
                    elif kind == "content_block_delta":
                        delta = payload.get("delta") or {}
                        if delta.get("type") == "text_delta" and delta.get("text"):
                            yield ChatChunk(text=delta["text"])
                    elif kind == "message_delta":
                        tally.update(payload.get("usage"))
                        reason = (payload.get("delta") or {}).get("stop_reason")
                        tally.stop_reason = reason or tally.stop_reason
                    elif kind == "message_stop":
                        stopped = True
                        break
                    elif kind == "error":
                        raise stream_error(errors, payload)
        if not stopped:
            raise errors.cut("stream ended before message_stop")
        yield tally.final_chunk()


def stream_error(errors: UpstreamErrors, payload: Any) -> ProviderError:
    """An `event: error` mid-stream: overloaded and API errors are retryable, others are not."""
    error = payload.get("error") if isinstance(payload, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    status = ERROR_STATUS.get(str(kind), 500)
    if status >= 500:
        return errors.in_stream(payload)
    return errors.for_status(status, json.dumps(payload).encode(), None)
