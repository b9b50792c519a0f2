"""The HTTP handlers: /v1/chat/completions (plain and SSE), /v1/models, /v1/models/{model},
and OpenAI error JSON for every other /v1 path (404) or method (405).

A streamed response's headers go out only once the first chunk is ready, so an error before
it (the upstream's 400, 401, 429 or 5xx; a quota) gets its real HTTP status, as a plain
request would.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from connectors.openai_api import idempotent
from connectors.openai_api.adapter import (
    parse_chat_request,
    parse_embeddings_request,
    wants_usage_in_stream,
)
from connectors.openai_api.assemble import CompletionAssembler
from connectors.openai_api.chunks import ChunkWriter, sse, usage_json
from connectors.openai_api.feedback import (
    MAX_FEEDBACK_BODY,
    parse_feedback,
    vote_response,
    voter_of,
)
from connectors.openai_api.render import error_body, error_response, plain_error
from connectors.openai_api.routing_headers import bypasses_cache, routing_headers
from hub.chat_stream import ChatStream
from hub.config import MIB
from hub.errors import AuthError, Cancelled, HubError, InvalidField, UnknownModel
from hub.fastjson import dumps
from hub.idempotency_keys import Replay
from hub.model import Caller, ChatChunk, ChatRequest
from hub.request_body import read_body
from hub.service import Hub
from hub.untrusted import MAX_INT_DIGITS, load_json
from hub.web import REQUEST_ID_KEY, client_ip

log = logging.getLogger("connectors.openai_api")
OVERHEAD_HEADER = "X-UniLLM-Overhead-Ms"
DROPPED_HEADER = "X-UniLLM-Dropped-Params"
CAPPED_HEADER = "X-UniLLM-Max-Tokens-Capped"  # the answer limit the budget left imposed
FALLBACK_PATH = "/v1/{tail:.*}"


class OpenAIRoutes:
    def __init__(self, hub: Hub, *, max_body_bytes: int = 20 * MIB) -> None:
        self._hub = hub
        self._max_body = max_body_bytes

    def definitions(self) -> list[web.AbstractRouteDef]:
        return [
            web.post("/v1/chat/completions", self.chat_completions),
            web.post("/v1/embeddings", self.embeddings),
            web.post("/v1/feedback", self.feedback),
            web.get("/v1/models", self.models),
            web.get("/v1/models/{model}", self.model),
            # Last: whatever /v1 path or method the routes above do not serve.
            web.route("*", FALLBACK_PATH, self.not_served),
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
        data = [_model_json(alias) for alias in self._hub.aliases]
        return web.json_response({"object": "list", "data": data})

    async def model(self, request: web.Request) -> web.Response:
        try:
            await self._caller(request)
            alias = request.match_info["model"]
            if alias not in self._hub.aliases:
                raise UnknownModel(alias, self._hub.aliases)
        except HubError as exc:
            return error_response(exc)
        return web.json_response(_model_json(alias))

    async def not_served(self, request: web.Request) -> web.Response:
        allowed: set[str] = set()
        for resource in request.app.router.resources():
            if resource.canonical == "/v1/{tail}":
                continue
            match, methods = await resource.resolve(request)
            if match is None:
                allowed |= methods
        if allowed:
            allow = ", ".join(sorted(allowed - {"HEAD"}) or sorted(allowed))
            return plain_error(
                405,
                f"Method {request.method} is not allowed on {request.path}; use {allow}.",
                code="method_not_allowed",
                headers={"Allow": allow},
            )
        return plain_error(
            404,
            f"Unknown path {request.path}: this hub serves /v1/chat/completions, "
            "/v1/embeddings, /v1/feedback and /v1/models.",
            code="unknown_url",
        )

    async def feedback(self, request: web.Request) -> web.Response:
        """👍/👎 on one of the team's answers, by its response id (hub.feedback)."""
        try:
            caller = await self._caller(request)
            parsed = parse_feedback(await _json_body(request, limit=MAX_FEEDBACK_BODY))
            vote = await self._hub.feedback.vote(
                parsed.response_id,
                parsed.rating,
                voter=voter_of(caller, parsed),
                comment=parsed.comment,
            )
        except HubError as exc:
            return error_response(exc)
        return vote_response(vote)

    async def embeddings(self, request: web.Request) -> web.Response:
        try:
            caller = await self._caller(request)
            body = await _json_body(request, limit=self._max_body)
            embedding = parse_embeddings_request(
                body, caller=caller, request_id=request.get(REQUEST_ID_KEY)
            )
            result = await self._hub.embed(embedding)
        except HubError as exc:
            return error_response(exc)
        return web.json_response(result.payload)

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        arrived = time.perf_counter()
        try:
            caller = await self._caller(request)
            body = await _json_body(request, limit=self._max_body)
            chat = parse_chat_request(body, caller=caller, request_id=request.get(REQUEST_ID_KEY))
            if bypasses_cache(request.headers):
                chat = dataclasses.replace(chat, no_cache=True)
            claim = await idempotent.begin(self._hub, request, caller, body)
        except HubError as exc:
            return error_response(exc)
        if isinstance(claim, Replay):
            return await idempotent.replay(request, claim.answer)
        if claim is None:
            return await self._complete(request, chat, body, arrived, None)
        recorder = idempotent.Recorder()
        try:
            response = await self._complete(request, chat, body, arrived, recorder)
        except BaseException:
            await claim.abandon()
            raise
        if recorder.answer is None:
            await claim.abandon()  # it failed: a retry with the same key runs it again
        else:
            await claim.finish(recorder.answer)
        return response

    async def _complete(
        self,
        request: web.Request,
        chat: ChatRequest,
        body: Any,
        arrived: float,
        recorder: idempotent.Recorder | None,
    ) -> web.StreamResponse:
        response: web.StreamResponse | None = None
        try:
            stream = self._hub.chat(chat)
            async with stream:
                events = stream.events()
                writer = ChunkWriter(
                    request_id=stream.result.request_id,
                    # The alias the client asked for, also when an experiment answered it
                    # from another alias (the usage record says which).
                    alias=stream.result.requested_alias or stream.result.alias,
                    created=int(time.time()),
                    include_usage=wants_usage_in_stream(body) or not chat.options.stream,
                )
                upstream_started = time.perf_counter()
                first = await anext(events, None)  # an error here still has its status
                headers = _answer_headers(stream, overhead_ms=upstream_started - arrived)
                if chat.options.stream:
                    response = _EventStream(
                        headers={
                            "Content-Type": "text/event-stream",
                            "Cache-Control": "no-cache",
                            **headers,
                        }
                    )
                    await response.prepare(request)
                    await _stream(response, writer, first, events, recorder)
                    if recorder is not None:
                        recorder.streamed(headers)
                    return response
                assembler = CompletionAssembler()
                if first is not None:
                    writer.assemble(first, assembler)
                    add = assembler.add
                    async for chunk in events:
                        wire = chunk.wire
                        if wire is not None and writer.wired:  # as `assemble` adds it
                            add(wire)
                        else:
                            writer.assemble(chunk, assembler)
                upstream_ms = (time.perf_counter() - upstream_started) * 1000
        except HubError as exc:
            if response is not None and response.prepared:
                return response  # the error already went out as an SSE event
            return error_response(exc)
        completion = writer.completed(assembler)
        if "usage" not in completion:
            completion["usage"] = usage_json(stream.result.usage)  # what the ledger counted
        total_ms = (time.perf_counter() - arrived) * 1000
        headers[OVERHEAD_HEADER] = f"{total_ms - upstream_ms:.2f}"
        if recorder is not None:
            recorder.plain(completion, headers)
        # orjson, not json_response's json.dumps: the one serialisation of the answer.
        return web.Response(
            body=dumps(completion), content_type="application/json", headers=headers
        )


async def _stream(
    response: web.StreamResponse,
    writer: ChunkWriter,
    first: ChatChunk | None,
    events: AsyncIterator[ChatChunk],
    recorder: idempotent.Recorder | None,
) -> None:
    pending: list[bytes] = []
    chunk = first
    try:
        while chunk is not None:
            if recorder is None:
                data = writer.events(chunk)
            else:
                objects = writer.objects(chunk)
                recorder.objects.extend(objects)
                data = b"".join([sse(obj) for obj in objects])
            if chunk.more:  # chunks that arrived together: one write (the headers go
                pending.append(data)  # with the first, or alone)
            else:
                if pending:
                    pending.append(data)
                    data = b"".join(pending)
                    pending.clear()
                await response.write(data)
            chunk = await anext(events, None)
        # The rest and [DONE] in one write (the whole answer with its headers, when the
        # upstream's answer came in one read). The end of the chunked body goes out once
        # the handler returns, after settlement: the response ends only when its usage
        # record is durable. A client gone by this write left early like one gone before
        # it: cancelled (when the last chunks came in one read, this was the only write
        # after the hang-up, and its error used to settle the request as `error`).
        await response.write(b"".join(pending) + b"data: [DONE]\n\n")
    except HubError as exc:
        # Headers are gone: the error travels as an SSE event, and there is no [DONE].
        await _write_quietly(response, b"".join(pending) + sse(error_body(exc)))
        raise
    except ConnectionResetError as exc:
        raise Cancelled("The client disconnected.") from exc


class _EventStream(web.StreamResponse):
    """An SSE response whose headers go out with its first write rather than on their own
    (aiohttp's `web.Response` does the same): one socket write fewer per streamed answer
    (py-spy at c16: the headers' own write was 6.7% of the hub's CPU)."""

    _send_headers_immediately = False


def _answer_headers(stream: ChatStream, *, overhead_ms: float) -> dict[str, str]:
    # Known once the first chunk is ready: the deployment answering, what it dropped.
    headers = {OVERHEAD_HEADER: f"{overhead_ms * 1000:.2f}", **routing_headers(stream)}
    if stream.route.dropped:
        headers[DROPPED_HEADER] = ", ".join(stream.route.dropped)
    if stream.capped_max_tokens is not None:
        headers[CAPPED_HEADER] = str(stream.capped_max_tokens)
    return headers


def _model_json(alias: str) -> dict[str, Any]:
    return {"id": alias, "object": "model", "created": 0, "owned_by": "unillm-hub"}


async def _write_quietly(response: web.StreamResponse, data: bytes) -> None:
    try:
        await response.write(data)
    except ConnectionResetError:
        log.debug("client left before the error event")


async def _json_body(request: web.Request, *, limit: int) -> Any:
    raw = await read_body(request, limit=limit)
    try:
        return load_json(raw)
    except InvalidField as exc:
        named = _long_number.search(raw)
        if exc.field == "body" and "digits" in exc.user_message and named is not None:
            field = named.group(1).decode()  # a number no field can take: name its field
            raise InvalidField(field, f"'{field}' is not a number the API accepts.") from exc
        raise


_long_number = re.compile(rb'"([A-Za-z_]{1,64})"\s*:\s*-?\d{%d,}' % (MAX_INT_DIGITS + 1))
