"""OpenAI-compatible chat completions (OpenAI, Azure-style gateways, vLLM, Ollama, LiteLLM...).

The hub always streams upstream, with `stream_options.include_usage`, so a streamed and a
plain client request cost the same and usage comes from the provider's own count.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from hub.clock import Clock, SystemClock
from hub.config import DeploymentSettings, ProviderSettings
from hub.ledger.estimate import estimate_prompt_tokens
from hub.model import ChatChunk, ChatRequest, ImagePart, Message, TextPart, Usage
from hub.providers.upstream import StreamProgress, UpstreamErrors, raise_for_status, sse_events


def image_url(part: ImagePart) -> str:
    if part.data is not None:
        return f"data:{part.media_type};base64,{base64.b64encode(part.data).decode()}"
    return part.url or ""


def openai_message(message: Message) -> dict[str, Any]:
    if not message.has_images:
        return {"role": message.role, "content": message.plain_text}
    content: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        else:
            content.append({"type": "image_url", "image_url": {"url": image_url(part)}})
    return {"role": message.role, "content": content}


def request_body(
    deployment: DeploymentSettings, request: ChatRequest, *, max_tokens: int
) -> dict[str, Any]:
    options = request.options
    body: dict[str, Any] = {
        "model": deployment.model,
        "messages": [openai_message(m) for m in request.messages],
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if options.temperature is not None:
        body["temperature"] = options.temperature
    if options.top_p is not None:
        body["top_p"] = options.top_p
    if options.stop:
        body["stop"] = list(options.stop)
    return body


class OpenAIProvider:
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
        headers = {"Accept": "text/event-stream"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        errors = UpstreamErrors(self._settings.name, key)
        progress = StreamProgress()
        text: list[str] = []
        usage: Usage | None = None
        finish_reason: str | None = None
        done = False
        with errors.translated(progress):
            async with self._client.stream(
                "POST",
                f"{self._settings.base_url}/chat/completions",
                json=request_body(deployment, request, max_tokens=max_tokens),
                headers=headers,
                timeout=httpx.Timeout(self._settings.timeout_s),
            ) as response:
                await raise_for_status(response, errors, progress, self._clock.now())
                async for event in sse_events(response.aiter_lines()):
                    if event.data.strip() == "[DONE]":
                        done = True
                        break
                    try:
                        payload = json.loads(event.data)
                    except ValueError:
                        raise errors.cut("unreadable stream data") from None
                    if not isinstance(payload, dict):
                        continue
                    if payload.get("error"):
                        raise errors.in_stream(payload)
                    usage = read_usage(payload) or usage
                    for choice in payload.get("choices") or ():
                        if choice.get("index", 0) != 0:
                            continue
                        finish_reason = choice.get("finish_reason") or finish_reason
                        delta = (choice.get("delta") or {}).get("content")
                        if delta:
                            text.append(delta)
                            yield ChatChunk(text=delta)
        if not done:
            raise errors.cut("stream ended before [DONE]")
        if usage is None:
            usage = Usage(
                prompt_tokens=estimate_prompt_tokens(request.messages),
                completion_tokens=len("".join(text)) // 4 + 1,
            )
        yield ChatChunk(usage=usage, finish_reason=finish_reason or "stop")


def read_usage(payload: dict[str, Any]) -> Usage | None:
    raw = payload.get("usage")
    if not isinstance(raw, dict):
        return None
    return Usage(
        prompt_tokens=int(raw.get("prompt_tokens") or 0),
        completion_tokens=int(raw.get("completion_tokens") or 0),
    )
