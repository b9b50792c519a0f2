"""A fake Stripe API on 127.0.0.1 that the real `stripe` SDK talks to, in Stripe's wire format.

async with FakeStripe() as fake:           # [billing.stripe] api_base = fake.base_url
    fake.fault("500")                       # the next meter event answers 500 (then "429",
    fake.fault("429", retry_after=30)       # "timeout": held past the client's timeout,
    fake.fault("drop")                      # "drop": accepted, then the connection is cut;
    fake.fault("accept_hold")               # accepted, answer held: kill the sender meanwhile)
    fake.accepted                           # identifier -> how many times it was accepted
    fake.forget_idempotency()               # Stripe's idempotency window (24 h) has passed
    await fake.send_webhook(url, "invoice.paid", {"customer": "cus_..."}, secret, at=ts)

Requests are form-encoded (`payload[value]=25`), authenticated with `Bearer sk_...`; errors
are Stripe's JSON (`{"error": {"type", "code", "message", "param"}}`). An Idempotency-Key
replays the first answer (with `Idempotent-Replayed: true`); a meter event whose identifier
was already accepted is refused with 400 `duplicate_meter_event`, as Stripe does.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl

import httpx
from aiohttp import web
from aiohttp.test_utils import TestServer

API_KEY = "sk_test_fake_key"


@dataclass
class Fault:
    kind: str  # 500 | 429 | timeout | drop | accept_hold
    retry_after: int | None = None


@dataclass
class FakeStripeState:
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)  # identifier -> accepted count
    events: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    duplicates: int = 0
    idempotent: dict[str, tuple[int, str]] = field(default_factory=dict)


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding: `a[b]=c` nests, `a[0]=x` is a list item."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def error(
    status: int,
    kind: str,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body: dict[str, Any] = {"type": kind, "message": message}
    if code:
        body["code"] = code
        body["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        body["param"] = param
    body["request_log_url"] = "https://dashboard.stripe.com/test/logs/req_fake"
    return web.json_response({"error": body}, status=status, headers=headers)


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The Stripe-Signature header: HMAC-SHA256 of "{t}.{payload}" with the endpoint secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class FakeStripe:
    def __init__(self, *, hold_s: float = 5.0) -> None:
        self.state = FakeStripeState()
        self._faults: list[Fault] = []
        self._hold_s = hold_s
        self._ids = itertools.count(1)
        self._server: TestServer | None = None
        self.holding = asyncio.Event()  # an "accept_hold" request has been accepted

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("")).rstrip("/")

    @property
    def accepted(self) -> dict[str, int]:
        return self.state.accepted

    def fault(self, kind: str, *, retry_after: int | None = None) -> None:
        self._faults.append(Fault(kind, retry_after))

    def forget_idempotency(self) -> None:
        self.state.idempotent.clear()

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/v1/customers", self._customers)
        app.router.add_post("/v1/billing/meter_events", self._meter_events)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server(shutdown_timeout=0.5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            await self._server.close()

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {API_KEY}"

    async def _replayed(self, request: web.Request) -> web.Response | None:
        key = request.headers.get("Idempotency-Key")
        if key and key in self.state.idempotent:
            status, text = self.state.idempotent[key]
            return web.Response(
                status=status,
                text=text,
                content_type="application/json",
                headers={"Idempotent-Replayed": "true", "Idempotency-Key": key},
            )
        return None

    def _remember(self, request: web.Request, response: web.Response) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        if key and response.status < 500:
            assert isinstance(response.text, str)
            self.state.idempotent[key] = (response.status, response.text)
        return response

    async def _customers(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return error(401, "invalid_request_error", "Invalid API Key provided.")
        replay = await self._replayed(request)
        if replay is not None:
            return replay
        form = parse_form(await request.text())
        customer_id = f"cus_fake{next(self._ids):06d}"
        customer = {
            "id": customer_id,
            "object": "customer",
            "created": int(time.time()),
            "email": form.get("email"),
            "name": form.get("name"),
            "metadata": form.get("metadata", {}),
            "livemode": False,
        }
        self.state.customers[customer_id] = customer
        return self._remember(request, web.json_response(customer))

    async def _meter_events(self, request: web.Request) -> web.Response:
        self.state.attempts += 1
        if not self._authorized(request):
            return error(401, "invalid_request_error", "Invalid API Key provided.")
        fault = self._faults.pop(0) if self._faults else None
        if fault is not None and fault.kind == "500":
            return error(500, "api_error", "An unknown error occurred.")
        if fault is not None and fault.kind == "429":
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
            return error(
                429,
                "invalid_request_error",
                "Too many requests.",
                code="rate_limit",
                headers=headers,
            )
        if fault is not None and fault.kind == "timeout":
            await asyncio.sleep(self._hold_s)  # the client gives up first
            return error(500, "api_error", "too late")
        response = await self._replayed(request) or await self._new_meter_event(request)
        if fault is not None and fault.kind == "accept_hold":
            self.holding.set()
            await asyncio.sleep(self._hold_s)  # accepted; the sender is killed meanwhile
        if fault is not None and fault.kind == "drop":
            # Processed (and remembered for its Idempotency-Key), then the connection is cut.
            assert request.transport is not None
            request.transport.abort()
        return response

    async def _new_meter_event(self, request: web.Request) -> web.Response:
        form = parse_form(await request.text())
        payload = form.get("payload", {})
        identifier = form.get("identifier") or f"auto_{secrets.token_hex(8)}"
        if not form.get("event_name"):
            return error(
                400,
                "invalid_request_error",
                "Missing required param: event_name.",
                param="event_name",
            )
        if not payload.get("stripe_customer_id") or not str(payload.get("value", "")).isdigit():
            return error(
                400,
                "invalid_request_error",
                "payload must have stripe_customer_id and a whole-number value.",
                param="payload",
            )
        if identifier in self.state.accepted:
            self.state.duplicates += 1
            return self._remember(
                request,
                error(
                    400,
                    "invalid_request_error",
                    f"An event already exists with identifier {identifier}.",
                    code="duplicate_meter_event",
                    param="identifier",
                    headers={"Stripe-Should-Retry": "false"},
                ),
            )
        self.state.accepted[identifier] = self.state.accepted.get(identifier, 0) + 1
        event = {
            "object": "billing.meter_event",
            "created": int(time.time()),
            "event_name": form["event_name"],
            "identifier": identifier,
            "livemode": False,
            "payload": payload,
            "timestamp": int(form.get("timestamp") or time.time()),
        }
        self.state.events.append(event)
        return self._remember(request, web.json_response(event))

    @staticmethod
    def event(event_type: str, obj: dict[str, Any], *, created: int) -> dict[str, Any]:
        return {
            "id": f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": "2025-04-30.basil",
            "created": created,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }

    @staticmethod
    async def post_webhook(
        url: str, event: dict[str, Any], *, secret: str, timestamp: int
    ) -> httpx.Response:
        payload = json.dumps(event, indent=2)  # Stripe sends pretty-printed JSON
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(
                url,
                content=payload.encode(),
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "Stripe-Signature": sign(payload, secret, timestamp),
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                },
            )
