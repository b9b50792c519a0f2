"""The HTTP handlers: /v1/chat/completions (plain and SSE) and /v1/models."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Any

from aiohttp import web

from connectors.openai_api.adapter import parse_chat_request, wants_usage_in_stream
from connectors.openai_api.render import (
    chunk_json,
    completion_json,
    error_body,
    error_response,
    sse,
)
from connectors.openai_api.routing_headers import bypasses_cache, routing_headers
from hub.chat_stream import ChatStream
from hub.errors import AuthError, BadRequest, Cancelled, HubError
from hub.model import Caller
from hub.service import Hub
from hub.web import REQUEST_ID_KEY, client_ip

log = logging.getLogger("connectors.openai_api")
OVERHEAD_HEADER = "X-UniLLM-Overhead-Ms"


class OpenAIRoutes:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def definitions(self) -> list[web.AbstractRouteDef]:
        return [
            web.post("/v1/chat/completions", self.chat_completions),
            web.get("/v1/models", self.models),
        ]

    async def _caller(self, request: web.Request) -> Caller:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("Missing API key: send 'Authorization: Bearer <team key>'.")
        authenticated = await self._hub.keys.authenticate(
            token.strip(), client_ip=client_ip(request)
        )
        return authenticated.caller

    async def models(self, request: web.Request) -> web.Response:
        try:
            await self._caller(request)
        except HubError as exc:
            return error_response(exc)
        data = [
            {"id": alias, "object": "model", "created": 0, "owned_by": "unillm-hub"}
            for alias in self._hub.aliases
        ]
        return web.json_response({"object": "list", "data": data})

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        arrived = time.perf_counter()
        response: web.StreamResponse | None = None
        try:
            caller = await self._caller(request)
            body = await _json_body(request)
            chat = parse_chat_request(body, caller=caller, request_id=request.get(REQUEST_ID_KEY))
            if bypasses_cache(request.headers):
                chat = dataclasses.replace(chat, no_cache=True)
            stream = self._hub.chat(chat)
            async with stream:
                overhead_ms = (time.perf_counter() - arrived) * 1000
                if chat.options.stream:
                    response = _sse_response(overhead_ms)
                    await self._stream(request, response, stream, body)
                    return response
                upstream_started = time.perf_counter()
                await stream.collect()
                upstream_ms = (time.perf_counter() - upstream_started) * 1000
        except HubError as exc:
            if response is not None and response.prepared:
                return response  # the error already went out as an SSE event
            return error_response(exc)
        total_ms = (time.perf_counter() - arrived) * 1000
        response = web.json_response(
            completion_json(stream.result, int(time.time())), headers=routing_headers(stream)
        )
        response.headers[OVERHEAD_HEADER] = f"{total_ms - upstream_ms:.2f}"
        return response

    async def _stream(
        self,
        request: web.Request,
        response: web.StreamResponse,
        stream: ChatStream,
        body: dict[str, Any],
    ) -> None:
        # The headers go out with the first chunk: they name the deployment that answers, and
        # a failure before any text is still a plain HTTP error.
        chunks = aiter(stream)
        first = await anext(chunks, None)
        response.headers.update(routing_headers(stream))
        await response.prepare(request)
        result, created = stream.result, int(time.time())
        try:
            await response.write(
                chunk_json(result, created, delta={"role": "assistant", "content": ""})
            )
            if first is not None:
                await response.write(chunk_json(result, created, delta={"content": first.text}))
            async for chunk in chunks:
                await response.write(chunk_json(result, created, delta={"content": chunk.text}))
        except HubError as exc:
            # Headers are gone: the error travels as an SSE event, and there is no [DONE].
            await _write_quietly(response, sse(error_body(exc)))
            raise
        except ConnectionResetError as exc:
            raise Cancelled("The client disconnected.") from exc
        await response.write(
            chunk_json(result, created, delta={}, finish_reason=result.finish_reason or "stop")
        )
        if wants_usage_in_stream(body):
            await response.write(chunk_json(result, created, usage=result.usage))
        await response.write(b"data: [DONE]\n\n")


def _sse_response(overhead_ms: float) -> web.StreamResponse:
    return web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            OVERHEAD_HEADER: f"{overhead_ms:.2f}",
        }
    )


async def _write_quietly(response: web.StreamResponse, data: bytes) -> None:
    try:
        await response.write(data)
    except ConnectionResetError:
        log.debug("client left before the error event")


async def _json_body(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from exc
