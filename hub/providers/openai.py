"""OpenAI-compatible chat completions (OpenAI, Azure-style gateways, vLLM, Ollama, LiteLLM...).

Transparent: a request from the OpenAI-compatible API is sent as the client wrote it, with
only `model`, `stream`, `stream_options.include_usage` and (when the hub caps it) the token
limit set; fields the hub has no name for go too. Each upstream chunk is passed back as it
came (`ChatChunk.wire`). The hub always streams upstream, asking for usage, so a streamed and
a plain client request cost the same and usage comes from the provider's own count.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from hub import fastjson
from hub.clock import Clock, SystemClock
from hub.config import DeploymentSettings, ProviderSettings
from hub.model import ChatChunk, ChatRequest
from hub.providers.openai_body import build_body
from hub.providers.transport import ProviderTransport
from hub.providers.upstream import SseParser, StreamProgress, UpstreamErrors, raise_for_status


def request_body(
    deployment: DeploymentSettings, request: ChatRequest, *, max_tokens: int | None
) -> dict[str, Any]:
    body = dict(request.openai_body) if request.openai_body is not None else build_body(request)
    body["model"] = deployment.model
    body["stream"] = True
    given = body.get("stream_options")
    body["stream_options"] = {**(given if isinstance(given, dict) else {}), "include_usage": True}
    if max_tokens is not None:
        named: list[str] = [f for f in ("max_tokens", "max_completion_tokens") if f in body]
        for name in named or [_limit_field(deployment.model)]:
            body[name] = max_tokens
    return body


# Models that refuse `max_tokens` and take only `max_completion_tokens` (OpenAI's reasoning
# models); other OpenAI-compatible servers know `max_tokens` best.
_COMPLETION_TOKENS_ONLY = ("o1", "o3", "o4", "gpt-5")


def _limit_field(model: str) -> str:
    """The field for a limit the client did not set (the hub caps to the budget left)."""
    name = model.rsplit("/", 1)[-1].lower()
    return "max_completion_tokens" if name.startswith(_COMPLETION_TOKENS_ONLY) else "max_tokens"


class OpenAIProvider:
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
        self._url = f"{settings.base_url}/chat/completions"
        # The headers of a stream with the provider's own key, built once (most requests).
        self._stream_headers = self._headers(settings.api_key, stream=True)

    def unsupported(self, deployment: DeploymentSettings, request: ChatRequest) -> list[str]:
        """Nothing: the upstream judges every parameter itself, and its 400 reaches the client."""
        return []

    def _errors(self, key: str) -> UpstreamErrors:
        return UpstreamErrors(self._settings.name, key, base_url=self._settings.base_url)

    def _headers(self, key: str, *, stream: bool) -> dict[str, str]:
        headers = {"Accept": "text/event-stream" if stream else "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    async def stream(
        self,
        deployment: DeploymentSettings,
        request: ChatRequest,
        *,
        max_tokens: int | None,
        api_key: str | None = None,
    ) -> AsyncIterator[ChatChunk]:
        # Imported here, not at the top: pydantic and the chunk models cost every `hub` CLI
        # process a few hundred milliseconds, and only a streaming call needs them.
        from hub.providers.openai_wire import MalformedChunk, read_chunk

        key = api_key or self._settings.api_key
        errors = self._errors(key)
        progress = StreamProgress()
        body = fastjson.dumps(request_body(deployment, request, max_tokens=max_tokens))
        done = False
        with errors.translated(progress):
            headers = (
                self._stream_headers
                if key == self._settings.api_key
                else self._headers(key, stream=True)
            )
            async with self._transport.post(self._url, body, headers) as response:
                await raise_for_status(response, errors, progress, self._clock.now())
                parser = SseParser()
                content = response.content
                loads, loads_alike = fastjson.loads, fastjson.loads_alike
                while not done:
                    # One network read at a time (no generator between it and this loop);
                    # what the end of the body completes comes last.
                    received = await content.readany()  # b"": the end
                    if received:
                        data = parser.data(received)
                        # The read's chunks checked at once for what orjson reads otherwise.
                        alike = parser.alike
                    else:
                        data, alike = [event.data for event in parser.close()], False
                    if not data:
                        if not received:
                            break
                        continue
                    # Everything one read brought is handed on at once (what came before a
                    # failure in it too): all but the last say so (`more`), and the client
                    # gets them in one write; the last too when the read also brought the
                    # end, so the client gets the answer and its [DONE] in one write.
                    for position, item in enumerate(data):
                        if "[DONE]" in item and item.strip() == "[DONE]":
                            done = True
                            del data[position:]
                            break
                    last = len(data) - 1
                    # Each chunk read here, not in a helper: this loop runs for every chunk.
                    for position, item in enumerate(data):
                        try:
                            payload = loads_alike(item) if alike else loads(item)
                        except ValueError:
                            raise errors.malformed("unreadable stream data") from None
                        if type(payload) is dict and "error" in payload and payload["error"]:
                            raise errors.in_stream(payload)
                        try:
                            chunk = read_chunk(payload, more=position < last or done)
                        except MalformedChunk as exc:
                            raise errors.malformed(str(exc)) from None
                        yield chunk
                    if not received:
                        break
        if not done:
            raise errors.cut("stream ended before [DONE]")

    async def post_json(
        self, path: str, body: dict[str, Any], *, api_key: str | None = None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """One plain JSON call (embeddings): the upstream's object and its headers."""
        key = api_key or self._settings.api_key
        errors = self._errors(key)
        progress = StreamProgress()
        with errors.translated(progress):
            async with self._transport.post(
                f"{self._settings.base_url}{path}",
                fastjson.dumps(body),
                self._headers(key, stream=False),
            ) as response:
                await raise_for_status(response, errors, progress, self._clock.now())
                raw = await response.read()
                headers = dict(response.headers)
        try:
            payload = json.loads(raw)
        except ValueError:
            raise errors.malformed("a response that is not JSON") from None
        if not isinstance(payload, dict):
            raise errors.malformed("a response that is not a JSON object")
        return payload, headers
