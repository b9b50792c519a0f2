"""The REST API the Zapier app calls, authenticated by a team key in `X-API-Key`."""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from connectors.zapier import samples
from connectors.zapier.bodies import ZapierAsk, ZapierSubscribe
from connectors.zapier.events import hub_event
from hub.audit import Actor, acting_as
from hub.body_models import validate_body
from hub.config import MIB
from hub.errors import AuthError, HubError, InvalidField, NotFound, UnknownModel
from hub.events.subscriptions import Subscriptions
from hub.idempotency_keys import (
    HEADER,
    REPLAYED_HEADER,
    Claim,
    Replay,
    StoredAnswer,
    check_key,
    fingerprint,
)
from hub.ledger.keys import AuthenticatedKey
from hub.model import ChatOptions, ChatRequest, Message, Origin
from hub.request_body import read_body
from hub.results import result_summary
from hub.service import Hub
from hub.ssrf import TargetRefused
from hub.untrusted import load_json
from hub.web import client_ip

SAMPLERS = {"completion.created": samples.completions, "budget.threshold": samples.budget_alerts}


class ZapierRoutes:
    def __init__(self, hub: Hub, *, max_body_bytes: int = MIB) -> None:
        self._hub = hub
        self._max_body = max_body_bytes
        self._subscriptions = Subscriptions.for_hub(hub)

    def definitions(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/zapier/me", self._wrap(self.me)),
            web.post("/zapier/actions/ask", self._wrap(self.ask)),
            web.post("/zapier/hooks", self._wrap(self.subscribe)),
            web.delete("/zapier/hooks/{hook_id}", self._wrap(self.unsubscribe)),
            web.get("/zapier/triggers/{event}/samples", self._wrap(self.samples)),
        ]

    def _wrap(self, handler: Any) -> Any:
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                key = await self._authenticate(request)
                # Hooks Zapier subscribes are audited as changes made by this key.
                with acting_as(Actor("key", str(key.key.id))):
                    response: web.StreamResponse = await handler(request, key)
                return response
            except HubError as exc:
                return error_response(exc)

        return run

    async def _authenticate(self, request: web.Request) -> AuthenticatedKey:
        secret = request.headers.get("X-API-Key", "").strip()
        if not secret:
            raise AuthError("Missing API key: send a team key in the X-API-Key header.")
        return await self._hub.keys.authenticate(secret, client_ip=client_ip(request))

    async def me(self, request: web.Request, key: AuthenticatedKey) -> web.Response:
        return web.json_response(
            {
                "team": key.caller.team_name,
                "key_name": key.key.name,
                "key_prefix": key.key.prefix,
            }
        )

    async def ask(self, request: web.Request, key: AuthenticatedKey) -> web.Response:
        body = await _body(request, limit=self._max_body)
        ask = validate_body(ZapierAsk, body)
        claim = await self._claim(request, key, body)
        if isinstance(claim, Replay):
            headers = {**claim.answer.headers, REPLAYED_HEADER: "true"}
            return web.json_response(claim.answer.body, status=claim.answer.status, headers=headers)
        try:
            answer = await self._ask(key, ask)
        except BaseException:
            if claim is not None:
                await claim.abandon()  # it failed: a retry with the same key runs it again
            raise
        if claim is not None:
            await claim.finish(StoredAnswer(200, answer, {}))
        return web.json_response(answer)

    async def _claim(
        self, request: web.Request, key: AuthenticatedKey, body: dict[str, Any]
    ) -> Claim | Replay | None:
        value = request.headers.get(HEADER)
        if value is None:
            return None
        return await self._hub.idempotency.begin(
            "zapier", key.caller.team_id, check_key(value), fingerprint(request.path, body)
        )

    async def _ask(self, key: AuthenticatedKey, ask: ZapierAsk) -> dict[str, Any]:
        messages = (Message.text("system", ask.system),) if ask.system else ()
        stream = self._hub.chat(
            ChatRequest(
                caller=key.caller,
                origin=Origin(connector="zapier", user=key.key.prefix),
                messages=(*messages, Message.text("user", ask.prompt)),
                model=ask.model,
                options=ChatOptions(stream=True, max_tokens=ask.max_tokens),
            )
        )
        async with stream:
            result = await stream.collect()
        return result_summary(result, ask.metadata)

    async def subscribe(self, request: web.Request, key: AuthenticatedKey) -> web.Response:
        wanted = validate_body(ZapierSubscribe, await _body(request, limit=self._max_body))
        try:
            created = await self._subscriptions.create(
                team_id=key.caller.team_id,
                url=wanted.target_url,
                events=[hub_event(wanted.event)],
                source="zapier",
            )
        except TargetRefused as exc:
            raise InvalidField("target_url", exc.user_message) from exc
        return web.json_response({"id": created.id, "event": wanted.event}, status=201)

    async def unsubscribe(self, request: web.Request, key: AuthenticatedKey) -> web.Response:
        hook_id = request.match_info["hook_id"]
        row = await self._subscriptions.get(hook_id, team_id=key.caller.team_id)
        if row.source != "zapier":
            raise NotFound(f"No subscription with id '{hook_id}'.")
        await self._subscriptions.delete(hook_id, team_id=key.caller.team_id)
        return web.Response(status=204)

    async def samples(self, request: web.Request, key: AuthenticatedKey) -> web.Response:
        event = hub_event(request.match_info["event"])
        if event == "invoice.created":  # read through hub.billing, not the tables
            return await self._invoice_samples(key)
        sampler = SAMPLERS.get(event)
        if sampler is None:
            raise NotFound(f"No samples for '{request.match_info['event']}'.")
        return web.json_response(await sampler(self._hub, key.caller))

    async def _invoice_samples(self, key: AuthenticatedKey) -> web.Response:
        return web.json_response(await samples.invoices(self._hub, key.caller))


async def _body(request: web.Request, *, limit: int) -> Any:
    """The parsed JSON, bounded (size, depth) before a model reads it."""
    return load_json(await read_body(request, limit=limit))


def error_response(error: HubError) -> web.Response:
    body: dict[str, Any] = {"error": {"message": error.user_message, "code": error.code}}
    field = "model" if isinstance(error, UnknownModel) else getattr(error, "field", None)
    if field:
        body["error"]["field"] = field
    status = 400 if isinstance(error, UnknownModel) else error.status
    headers = {}
    retry_after = getattr(error, "retry_after", None)  # limits, an Idempotency-Key in use
    if isinstance(retry_after, int | float):
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return web.json_response(body, status=400 if status == 499 else status, headers=headers)
