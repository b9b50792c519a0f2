"""A fake OpenAI-compatible server: /v1/chat/completions (JSON and SSE) and /v1/models.

async with FakeOpenAI() as fake:       # or the `fake_openai` fixture
    fake.script(reply("Hi there", prompt_tokens=7, completion_tokens=2), error(500))
    settings = ProviderSettings(name="oa", type="openai", base_url=fake.base_url)
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from tests.fakes.llm_script import (
    ErrorReply,
    FakeLLMServer,
    Replay,
    Reply,
    StreamGuard,
    cut,
    cut_after,
    error,
    mid_stream_error,
    reply,
    slow,
    stall,
)

__all__ = [
    "FakeOpenAI",
    "cut_after",
    "error",
    "mid_stream_error",
    "reply",
    "slow",
    "stall",
]

ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


class FakeOpenAI(FakeLLMServer):
    models: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o")

    @property
    def base_url(self) -> str:
        """What goes in `ProviderSettings.base_url` (the SDKs' `base_url`)."""
        return f"{self.origin}/v1"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/chat/completions", self._chat),
            web.post("/v1/embeddings", self._embeddings),
            web.get("/v1/models", self._models),
        ]

    def _unauthorized(self, request: web.Request) -> bool:
        return self.api_key is not None and (
            request.headers.get("Authorization") != f"Bearer {self.api_key}"
        )

    async def _models(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        if self._unauthorized(request):
            return error_response(ErrorReply(401, message="Incorrect API key provided."))
        data = [
            {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "fake"}
            for m in self.models
        ]
        return web.json_response({"object": "list", "data": data})

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        """One 3-number vector per input, 2 tokens per input; scripted errors apply."""
        recorded = await self.record(request)
        if self._unauthorized(request):
            return error_response(ErrorReply(401, message="Incorrect API key provided."))
        behaviour = self.next_behaviour()
        if isinstance(behaviour, ErrorReply):
            return error_response(behaviour)
        body = recorded.json if isinstance(recorded.json, dict) else {}
        given = body.get("input")
        inputs = (
            given
            if isinstance(given, list) and given and not isinstance(given[0], int)
            else [given]
        )
        data = [
            {"object": "embedding", "index": i, "embedding": [0.1 * i, 0.2, -0.3]}
            for i in range(len(inputs))
        ]
        usage = {"prompt_tokens": 2 * len(inputs), "total_tokens": 2 * len(inputs)}
        return web.json_response(
            {"object": "list", "data": data, "model": body.get("model"), "usage": usage}
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        recorded = await self.record(request)
        if self._unauthorized(request):
            return error_response(ErrorReply(401, message="Incorrect API key provided."))
        body = recorded.json if isinstance(recorded.json, dict) else {}
        chosen = self.chooser(body) if self.chooser is not None else None
        behaviour = chosen or self.next_behaviour(body.get("model"))
        self.elapse(body.get("model"))
        if isinstance(behaviour, Reply) and behaviour.stall and not await self.wait_gate():
            return web.Response(status=503)
        if isinstance(behaviour, ErrorReply):
            return error_response(behaviour)
        if isinstance(behaviour, Replay):
            return await self._replay(request, behaviour, body)
        model = str(body.get("model", "gpt-4o-mini"))
        behaviour = behaviour.within(body.get("max_completion_tokens", body.get("max_tokens")))
        if not body.get("stream"):
            return web.json_response(completion(behaviour, model))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return await self._stream(request, behaviour, model, include_usage)

    async def _stream(
        self, request: web.Request, behaviour: Reply, model: str, include_usage: bool
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        chunk = ChunkMaker(model, include_usage)
        with StreamGuard(self):
            await response.prepare(request)

            async def send(payload: Any) -> None:
                if behaviour.sse_comments:
                    await response.write(b": keep-alive\n\n\n")
                await response.write(f"data: {json.dumps(payload)}\n\n".encode())

            await send(chunk({"role": "assistant", "content": ""}))
            for sent, delta in enumerate(behaviour.deltas()):
                if behaviour.ping_every is not None and sent == behaviour.ping_after:
                    while not self._closing.is_set():
                        await response.write(b": ping\n\n")
                        await asyncio.sleep(behaviour.ping_every)
                    return response
                if not await self.pace(behaviour, sent):
                    return response
                if sent == behaviour.cut_after:
                    return await cut(self, request, response, behaviour)
                if sent == behaviour.error_after:
                    await send(stream_error(behaviour))
                    return response
                await send(chunk({"content": delta}))
            if behaviour.cut_after is not None:
                return await cut(self, request, response, behaviour)
            if behaviour.error_after is not None:
                await send(stream_error(behaviour))
                return response
            finish = chunk({}, finish_reason=behaviour.finish)
            await send(finish)
            if include_usage and behaviour.usage:
                await send({**finish, "choices": [], "usage": usage(behaviour)})
            await response.write(b"data: [DONE]\n\n")
        return response

    async def _replay(
        self, request: web.Request, replay: Replay, body: dict[str, Any]
    ) -> web.StreamResponse:
        if replay.status >= 400:
            return web.json_response(replay.body, status=replay.status, headers=replay.headers)
        if not body.get("stream"):
            return web.json_response(replay.response, headers=replay.headers)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", **replay.headers}
        )
        with StreamGuard(self):
            await response.prepare(request)
            for frame in replay.raw_frames:
                await response.write(f"data: {frame}\n\n".encode())
            for chunk in replay.stream:
                if not include_usage and isinstance(chunk, dict):
                    if chunk.get("choices") == [] and chunk.get("usage") is not None:
                        continue  # the usage-only chunk is sent only on request
                    chunk = {k: v for k, v in chunk.items() if k != "usage"}
                await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            if replay.done:
                await response.write(b"data: [DONE]\n\n")
        return response


class ChunkMaker:
    def __init__(self, model: str, include_usage: bool) -> None:
        self.base = {
            "id": "chatcmpl-fake0001",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
        }
        self.include_usage = include_usage

    def __call__(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        extra = {"usage": None} if self.include_usage else {}
        return {**self.base, "choices": [choice], **extra}


def usage(behaviour: Reply) -> dict[str, Any]:
    prompt, completion_tokens = behaviour.prompt_tokens, behaviour.output_tokens()
    reported: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens,
    }
    if behaviour.cached_tokens:
        reported["prompt_tokens_details"] = {"cached_tokens": behaviour.cached_tokens}
    if behaviour.reasoning_tokens:
        reported["completion_tokens_details"] = {"reasoning_tokens": behaviour.reasoning_tokens}
    return reported


def completion(behaviour: Reply, model: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": "".join(behaviour.deltas()), "refusal": None}
    body: dict[str, Any] = {
        "id": "chatcmpl-fake0001",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": behaviour.finish}
        ],
    }
    if behaviour.usage:
        body["usage"] = usage(behaviour)
    return body


def error_body(status: int, message: str, error_type: str | None) -> dict[str, Any]:
    default_type, code = ERROR_TYPES.get(status, ("server_error", None))
    return {
        "error": {
            "message": message,
            "type": error_type or default_type,
            "param": None,
            "code": code,
        }
    }


def error_response(behaviour: ErrorReply) -> web.Response:
    headers = behaviour.response_headers()
    if behaviour.body is not None:
        return web.Response(status=behaviour.status, text=behaviour.body, headers=headers)
    body = error_body(behaviour.status, behaviour.message, behaviour.error_type)
    return web.json_response(body, status=behaviour.status, headers=headers)


def stream_error(behaviour: Reply) -> dict[str, Any]:
    return error_body(
        500,
        "The server had an error while processing your request.",
        (behaviour.error_type or "server_error"),
    )
