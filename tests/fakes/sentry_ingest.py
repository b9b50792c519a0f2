"""A fake Sentry ingest endpoint on 127.0.0.1: sentry-sdk posts envelopes to
/api/<project>/envelope/ for a DSN `http://<key>@127.0.0.1:<port>/<project>`.

    async with FakeSentry() as sentry:
        settings: [errors] sentry_dsn = sentry.dsn
        ...
        sentry.events        # each error event, decoded from its envelope
"""

from __future__ import annotations

import gzip
import json
from typing import Any, Self

from aiohttp import web
from aiohttp.test_utils import TestServer


class FakeSentry:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.raw: list[bytes] = []  # every envelope as received, decompressed
        self.auth: list[str] = []
        self._server: TestServer | None = None

    @property
    def dsn(self) -> str:
        assert self._server is not None
        return f"http://publickey@127.0.0.1:{self._server.port}/42"

    async def _envelope(self, request: web.Request) -> web.Response:
        body = await request.read()
        if body[:2] == b"\x1f\x8b":  # aiohttp has usually inflated it already
            body = gzip.decompress(body)
        self.raw.append(body)
        self.auth.append(request.headers.get("X-Sentry-Auth", ""))
        lines = body.split(b"\n")
        # header line, then (item header, payload) pairs
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if header and json.loads(header).get("type") == "event":
                self.events.append(json.loads(payload))
        return web.json_response({"id": "0" * 32})

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/api/42/envelope/", self._envelope)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        await self._server.close()
