"""Webhook receivers: real aiohttp servers on 127.0.0.1 that verify Standard Webhooks
signatures with the `standardwebhooks` package, as a subscriber's endpoint would.

    async with Receiver(clock=running.clock) as rx:
        rx.secret = created.secret            # verify with this (several: rotation)
        rx.script(500, 500)                   # then 200 for every later request
        ... await rx.wait_for(1)              # verified deliveries so far
        rx.received[0].body                   # parsed JSON of each verified delivery

The package checks the timestamp window against the system clock; a test hub runs on a
FakeClock, so the receiver takes its "now" from the same fake clock (`clock=`).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Self

from aiohttp import web
from aiohttp.test_utils import TestServer
from standardwebhooks import Webhook, WebhookVerificationError

from hub.clock import Clock


class _FakeTimeWebhook(Webhook):
    def __init__(self, secret: str, clock: Clock) -> None:
        super().__init__(secret)
        self._clock = clock

    def _Webhook__verify_timestamp(self, header: str) -> datetime:  # the package's window
        stamp = datetime.fromtimestamp(float(header), tz=self._clock.now().tzinfo)
        if abs(stamp - self._clock.now()) > timedelta(minutes=5):
            raise WebhookVerificationError("Message timestamp outside the window")
        return stamp


def verify_with(secret: str, body: bytes, headers: Any, clock: Clock | None) -> Any:
    hook = Webhook(secret) if clock is None else _FakeTimeWebhook(secret, clock)
    return hook.verify(body, {k: v for k, v in headers.items()})


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]  # lower-cased names
    body: Any


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    def __init__(self, *, clock: Clock | None = None, secret: str = "") -> None:
        self.clock = clock
        self.secret = secret
        self.received: list[Received] = []  # verified requests only
        self.rejected: list[str] = []  # why each unverifiable request was refused
        self.hits = 0  # every request, verified or not
        self._answers: list[Answer] = []
        self._changed = asyncio.Condition()
        self._server: TestServer | None = None

    def script(self, *answers: int | Answer) -> None:
        self._answers.extend(a if isinstance(a, Answer) else Answer(a) for a in answers)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.hits += 1
        try:
            body = verify_with(self.secret, raw, request.headers, self.clock)
        except WebhookVerificationError as exc:
            self.rejected.append(str(exc))
            await self._notify()
            return web.json_response({"error": str(exc)}, status=401)
        answer = self._answers.pop(0) if self._answers else Answer()
        if 200 <= answer.status < 300:
            headers = {k.lower(): v for k, v in request.headers.items()}
            self.received.append(Received(headers=headers, body=body))
        await self._notify()
        return web.Response(status=answer.status, headers=answer.headers, text="ok")

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, count: int, *, timeout: float = 10.0) -> list[Received]:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.received) >= count)
        return self.received

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            await self._server.close()


def dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))
