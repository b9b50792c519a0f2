"""A fake Anthropic Messages API: /v1/messages (JSON and the documented SSE events), /v1/models.

async with FakeAnthropic() as fake:    # or the `fake_anthropic` fixture
    fake.script(reply("Hi", prompt_tokens=25, completion_tokens=15), error(529))
    settings = ProviderSettings(name="claude", type="anthropic", base_url=fake.base_url)
"""

from __future__ import annotations

import json
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
    "FakeAnthropic",
    "cut_after",
    "error",
    "mid_stream_error",
    "reply",
    "slow",
    "stall",
]

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens"}


class FakeAnthropic(FakeLLMServer):
    models: tuple[str, ...] = ("claude-sonnet-4-5", "claude-haiku-4-5")

    @property
    def base_url(self) -> str:
        """What goes in `ProviderSettings.base_url` (no /v1: the client adds /v1/messages)."""
        return self.origin

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v1/messages", self._messages), web.get("/v1/models", self._models)]

    def _unauthorized(self, request: web.Request) -> bool:
        return self.api_key is not None and request.headers.get("x-api-key") != self.api_key

    async def _models(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        if self._unauthorized(request):
            return error_response(ErrorReply(401, message="invalid x-api-key"))
        data = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
            for m in self.models
        ]
        return web.json_response(
            {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
        )

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        recorded = await self.record(request)
        if self._unauthorized(request):
            return error_response(ErrorReply(401, message="invalid x-api-key"))
        body = recorded.json if isinstance(recorded.json, dict) else {}
        behaviour = self.next_behaviour(body.get("model"))
        self.elapse(body.get("model"))
        if isinstance(behaviour, Reply) and behaviour.stall and not await self.wait_gate():
            return web.Response(status=503)
        if isinstance(behaviour, ErrorReply):
            return error_response(behaviour)
        if isinstance(behaviour, Replay):
            return await self._replay(request, behaviour, body)
        model = str(body.get("model", "claude-sonnet-4-5"))
        if not body.get("stream"):
            return web.json_response(message(behaviour, model))
        return await self._stream(request, behaviour, model)

    async def _stream(
        self, request: web.Request, behaviour: Reply, model: str
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        with StreamGuard(self):
            await response.prepare(request)

            async def send(event: str, payload: dict[str, Any]) -> None:
                if behaviour.sse_comments:
                    await response.write(b": keep-alive\n\n\n")
                await response.write(f"event: {event}\ndata: {json.dumps(payload)}\n\n".encode())

            start = message(behaviour, model, streaming=True)
            await send("message_start", {"type": "message_start", "message": start})
            block = {"type": "text", "text": ""}
            await send(
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": block},
            )
            await send("ping", {"type": "ping"})
            for sent, text in enumerate(behaviour.deltas()):
                if not await self.pace(behaviour, sent):
                    return response
                if sent == behaviour.cut_after:
                    return await cut(self, request, response, behaviour)
                if sent == behaviour.error_after:
                    await send("error", stream_error(behaviour))
                    return response
                delta = {"type": "text_delta", "text": text}
                await send(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": 0, "delta": delta},
                )
            if behaviour.cut_after is not None:
                return await cut(self, request, response, behaviour)
            if behaviour.error_after is not None:
                await send("error", stream_error(behaviour))
                return response
            await send("content_block_stop", {"type": "content_block_stop", "index": 0})
            usage: dict[str, int] = {"output_tokens": behaviour.output_tokens()}
            if behaviour.delta_input_tokens:
                usage = {"input_tokens": behaviour.prompt_tokens, **usage}
            stop = {
                "stop_reason": STOP_REASONS.get(behaviour.finish, behaviour.finish),
                "stop_sequence": None,
            }
            await send("message_delta", {"type": "message_delta", "delta": stop, "usage": usage})
            await send("message_stop", {"type": "message_stop"})
        return response

    async def _replay(
        self, request: web.Request, replay: Replay, body: dict[str, Any]
    ) -> web.StreamResponse:
        headers = {"request-id": "req_fake0001", **replay.headers}
        if replay.status >= 400:
            return web.json_response(replay.body, status=replay.status, headers=headers)
        if not body.get("stream"):
            return web.json_response(replay.response, headers=headers)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", **headers})
        with StreamGuard(self):
            await response.prepare(request)
            for event, data in replay.stream:
                await response.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
        return response


def message(behaviour: Reply, model: str, *, streaming: bool = False) -> dict[str, Any]:
    """A Messages API `message`: complete, or as message_start announces it."""
    text = "".join(behaviour.deltas())
    output = behaviour.start_output_tokens if streaming else behaviour.output_tokens()
    return {
        "id": "msg_fake0001",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [] if streaming else [{"type": "text", "text": text}],
        "stop_reason": None if streaming else STOP_REASONS.get(behaviour.finish),
        "stop_sequence": None,
        "usage": {
            "input_tokens": behaviour.prompt_tokens,
            "output_tokens": output,
            **cache(behaviour),
        },
    }


def cache(behaviour: Reply) -> dict[str, int]:
    """The cache counts Anthropic reports beside (not inside) input_tokens, when there are any."""
    counts = {
        "cache_read_input_tokens": behaviour.cached_tokens,
        "cache_creation_input_tokens": behaviour.cache_write_tokens,
    }
    return counts if any(counts.values()) else {}


def error_body(status: int, message_text: str, error_type: str | None) -> dict[str, Any]:
    kind = error_type or ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message_text}}


def error_response(behaviour: ErrorReply) -> web.Response:
    headers = {"request-id": "req_fake0001", **behaviour.response_headers()}
    if behaviour.body is not None:
        return web.Response(status=behaviour.status, text=behaviour.body, headers=headers)
    body = error_body(behaviour.status, behaviour.message, behaviour.error_type)
    return web.json_response(body, status=behaviour.status, headers=headers)


def stream_error(behaviour: Reply) -> dict[str, Any]:
    return error_body(529, "Overloaded", behaviour.error_type or "overloaded_error")
