"""`POST /hooks/<id>`: find the hook, verify, parse, answer once per webhook-id.

Order matters: nothing is read from the body, claimed or spent before the signature checks
out, so a forged, stale or replayed-with-changes request has no side effect at all.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from connectors.webhooks.adapter import WebhookCall, parse_call
from connectors.webhooks.answer import Answerer
from connectors.webhooks.config import WebhooksConfig
from connectors.webhooks.dedupe import STILL_RUNNING, Dedupe, Stored
from connectors.webhooks.render import error_response, sse_event
from connectors.webhooks.verify import signature_headers, verify_request
from hub.errors import HubError, InvalidField, NotFound
from hub.inbound_hooks import HookInfo, InboundHooks
from hub.model import Caller
from hub.request_body import read_body
from hub.results import result_summary
from hub.service import Hub
from hub.ssrf import TargetRefused, check_target

# A repeat finding the first attempt abandoned claims it again; this bounds the ping-pong.
MAX_CLAIMS = 3


class WebhookRoutes:
    def __init__(self, hub: Hub, config: WebhooksConfig) -> None:
        self._hub = hub
        self._config = config
        self.hooks = InboundHooks.for_hub(hub)
        self.dedupe = Dedupe(hub.deliveries, wait_s=config.duplicate_wait_s)
        self.answers = Answerer(hub, self.hooks)

    def definitions(self) -> list[web.AbstractRouteDef]:
        return [web.post("/hooks/{hook_id}", self.receive)]

    async def receive(self, request: web.Request) -> web.StreamResponse:
        try:
            hook = await self.hooks.find(request.match_info["hook_id"])
            if hook is None:
                raise NotFound("No webhook with this id: check the URL (`hub webhook list`).")
            signature_headers(request.headers)  # before reading: no body for strangers
            raw = await read_body(request, limit=self._config.max_body_bytes)
            webhook_id = verify_request(
                raw, request.headers, secrets=self.hooks.valid_secrets(hook), clock=self._hub.clock
            )
            call = parse_call(raw)
            if call.callback_url is not None:
                await self._check_callback(call.callback_url)
        except HubError as exc:
            return error_response(exc)
        key = f"{hook.id}:{webhook_id}"
        wants_sse = "text/event-stream" in request.headers.get("Accept", "")
        for _ in range(MAX_CLAIMS):
            if await self.dedupe.claim(key):
                return await self._answer(request, hook, call, webhook_id, key, wants_sse)
            stored = await self.dedupe.outcome(key)
            if stored is None:
                continue  # the first attempt failed and let go: this one may run it
            if stored is STILL_RUNNING:
                break
            assert isinstance(stored, Stored)
            return await _replay(request, stored, wants_sse)
        return web.json_response(
            {"error": {"message": "This webhook-id is still being answered; retry shortly."}},
            status=409,
            headers={"Retry-After": "5"},
        )

    async def _check_callback(self, url: str) -> None:
        try:
            await check_target(url, allow_private=self._hub.settings.webhooks.allow_private_targets)
        except TargetRefused as exc:
            raise InvalidField("callback_url", exc.user_message) from exc

    async def _answer(
        self,
        request: web.Request,
        hook: HookInfo,
        call: WebhookCall,
        webhook_id: str,
        key: str,
        wants_sse: bool,
    ) -> web.StreamResponse:
        try:
            stream = self._hub.chat(
                call.chat_request(
                    caller=Caller(team_id=hook.team_id, team_name=hook.team_name),
                    hook_id=hook.id,
                    webhook_id=webhook_id,
                    default_model=hook.default_model,
                )
            )
            if call.callback_url is not None:
                # Budget and limits refuse here, before the 202; once admitted, the answer
                # runs (and settles) in the background whatever happens to this handler.
                await self.answers.start_callback(stream, hook, call, key)
                accepted = {"id": stream.result.request_id}
                await self.dedupe.finish(key, 202, accepted)
                return web.json_response(accepted, status=202)
            if wants_sse:
                response, body = await self.answers.stream_sse(request, stream, call)
                if body is None:
                    await self.dedupe.abandon(key)
                else:
                    await self.dedupe.finish(key, 200, body)
                return response
            async with stream:
                await stream.collect()
        except HubError as exc:
            await self.dedupe.abandon(key)
            return error_response(exc)
        except BaseException:
            # The client left (handler cancelled) or a bug: a retry must be able to run.
            await asyncio.shield(self.dedupe.abandon(key))
            raise
        body = result_summary(stream.result, call.metadata)
        await self.dedupe.finish(key, 200, body)
        return web.json_response(body)


async def _replay(request: web.Request, stored: Stored, wants_sse: bool) -> web.StreamResponse:
    """The first delivery's answer again; no provider call, no usage record."""
    if not wants_sse or stored.status != 200:
        return web.json_response(stored.body, status=stored.status)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    body: Any = stored.body
    await response.write(sse_event("delta", {"text": body.get("output", "")}))
    await response.write(sse_event("done", body))
    await response.write_eof()
    return response
