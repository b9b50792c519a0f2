"""Answering a webhook: all at once (JSON), as it streams (SSE), or later by signed callback."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

from aiohttp import web

from connectors.webhooks.adapter import WebhookCall
from connectors.webhooks.render import compact, error_json, sse_event
from hub.chat_stream import ChatStream
from hub.errors import Cancelled, HubError
from hub.events.subscriptions import Subscriptions
from hub.inbound_hooks import HookInfo, InboundHooks
from hub.results import result_summary
from hub.service import Hub

log = logging.getLogger("connectors.webhooks")
CALLBACK_EVENT = "webhook.callback"


def callback_event_id(key: str) -> str:
    """Derived from hook and webhook-id: the outbox's unique index allows one callback each."""
    return "evt_cb_" + hashlib.sha256(key.encode()).hexdigest()[:24]


class Answerer:
    def __init__(self, hub: Hub, hooks: InboundHooks) -> None:
        self._hub = hub
        self._hooks = hooks
        self._tasks: set[asyncio.Task[None]] = set()

    async def stream_sse(
        self, request: web.Request, stream: ChatStream, call: WebhookCall
    ) -> tuple[web.StreamResponse, dict[str, Any] | None]:
        """Deltas as `delta` events, then `done` with the whole result (or `error`)."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        try:
            async with stream:
                await response.prepare(request)
                try:
                    async for chunk in stream:
                        await response.write(sse_event("delta", {"text": chunk.text}))
                except ConnectionResetError as exc:
                    raise Cancelled("The client disconnected.") from exc
        except HubError as exc:
            if not response.prepared:
                raise  # nothing sent yet: the caller answers with a JSON error
            try:
                await response.write(sse_event("error", error_json(exc)))
            except ConnectionResetError:
                log.debug("client left before the error event")
            return response, None
        body = result_summary(stream.result, call.metadata)
        await response.write(sse_event("done", body))
        await response.write_eof()
        return response, body

    async def start_callback(
        self, stream: ChatStream, hook: HookInfo, call: WebhookCall, key: str
    ) -> None:
        """Admit the request (refusals raise here), answer it in the background, then queue
        the signed callback with the settled result."""
        chat = await stream.start(lambda s: s.collect())
        task = asyncio.create_task(self._run_callback(chat, stream, hook, call, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_callback(
        self,
        chat: asyncio.Task[object],
        stream: ChatStream,
        hook: HookInfo,
        call: WebhookCall,
        key: str,
    ) -> None:
        cancelled = False
        try:
            await chat  # done once settled, however it ended
            payload = result_summary(stream.result, call.metadata)
        except HubError as exc:
            payload = error_json(exc, request_id=stream.result.request_id, metadata=call.metadata)
        except asyncio.CancelledError:
            cancelled = True
            stopped = Cancelled(
                "The hub stopped before answering; send it again with a new webhook-id."
            )
            payload = error_json(
                stopped, request_id=stream.result.request_id, metadata=call.metadata
            )
        await asyncio.shield(self._enqueue(hook, call, key, payload))
        if cancelled:
            raise asyncio.CancelledError

    async def _enqueue(
        self, hook: HookInfo, call: WebhookCall, key: str, payload: dict[str, Any]
    ) -> None:
        assert call.callback_url is not None
        current = await self._hooks.find(hook.id)
        if current is None:
            log.info("webhook %s was deleted before its callback; not sent", hook.id)
            return
        await Subscriptions.for_hub(self._hub).send_once(
            team_id=current.team_id,
            url=call.callback_url,
            secret_encrypted=current.secret_encrypted,
            event_type=CALLBACK_EVENT,
            body=compact(payload),
            event_id=callback_event_id(key),
        )

    async def drain(self) -> None:
        """Wait for every running callback job (tests; graceful stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.drain()
