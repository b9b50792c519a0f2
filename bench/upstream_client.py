"""CPU per upstream POST: the hub's transport (aiohttp's client) against a bare keep-alive
protocol client, to the same in-process aiohttp server (uvloop), in alternating blocks.

The server's share is the same in every block, so the difference is what the client costs
on top of writing a request and reading a Content-Length answer: what a leaner upstream
client could save per request. The middle variant keeps aiohttp's protocol and C parser
(chunked and compressed answers, header limits, the per-read timeout) on one held
connection, without ClientSession, ClientRequest and ClientResponse; the bare client parses
nothing but Content-Length (no timeouts, pool, proxy or TLS): the floor.

    .venv/bin/python bench/upstream_client.py [--posts 2000] [--blocks 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop
from aiohttp import web
from aiohttp.client_proto import ResponseHandler

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT))

from hub.config import ProviderSettings  # noqa: E402
from hub.providers.transport import ProviderTransport  # noqa: E402

ANSWER = b'data: {"choices":[]}\n\n' * 9
BODY = b'{"model":"gpt","messages":[{"role":"user","content":"hi"}],"stream":true}'
HEADERS = {"Accept": "text/event-stream", "Authorization": "Bearer sk-x"}


async def _answer(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=ANSWER, content_type="text/event-stream")


class BareClient(asyncio.Protocol):
    """One keep-alive connection: a request in one write, a Content-Length answer read."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._waiter: asyncio.Future[bytes] | None = None
        self._needed: int | None = None
        self._transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # (uvloop's registers as no asyncio transport class)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._needed is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buffer[:end]).lower()
            at = head.index(b"content-length:") + 15
            line_end = head.find(b"\r\n", at)
            self._needed = end + 4 + int(head[at : line_end if line_end > 0 else None])
        if len(self._buffer) >= self._needed and self._waiter is not None:
            answer = bytes(self._buffer[: self._needed])
            del self._buffer[: self._needed]
            self._needed = None
            self._waiter.set_result(answer)

    async def post(self, request: bytes) -> bytes:
        assert self._transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        return await self._waiter


async def main(args: argparse.Namespace) -> None:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", _answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}/v1"
    transport = ProviderTransport(ProviderSettings(name="up", type="openai", base_url=base))
    url = base + "/chat/completions"

    async def hub_transport() -> None:
        async with transport.post(url, BODY, HEADERS) as response:
            await response.read()

    _, bare = await asyncio.get_running_loop().create_connection(BareClient, "127.0.0.1", port)
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
        "Authorization: Bearer sk-x\r\nAccept-Encoding: gzip, deflate\r\n"
        f"User-Agent: bench\r\nContent-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY

    async def bare_client() -> None:
        await bare.post(request)

    loop = asyncio.get_running_loop()
    _, handler = await loop.create_connection(lambda: ResponseHandler(loop), "127.0.0.1", port)

    async def aiohttp_protocol() -> None:
        # aiohttp's own protocol and C parser (chunked, compression, header limits, the
        # per-read timeout), without the session, request and response objects.
        handler.set_response_params(read_timeout=60.0)
        assert handler.transport is not None
        handler.transport.write(request)
        handler.start_timeout()
        message, payload = await handler.read()
        assert message.code == 200
        await payload.read()
        handler._drop_timeout()

    clients: dict[str, Callable[[], Awaitable[None]]] = {
        "hub transport (aiohttp)": hub_transport,
        "aiohttp's protocol alone": aiohttp_protocol,
        "bare protocol client": bare_client,
    }
    spent: dict[str, list[float]] = {name: [] for name in clients}
    for post in clients.values():
        for _ in range(200):
            await post()
    for _ in range(args.blocks):
        for name, post in clients.items():
            began = time.process_time()
            for _ in range(args.posts):
                await post()
            spent[name].append((time.process_time() - began) / args.posts * 1e6)
    await transport.close()
    await runner.cleanup()
    print(f"# CPU µs per POST, client and server in one process; {args.blocks} blocks each")
    print(f"# load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    for name, values in spent.items():
        ordered = sorted(values)
        blocks = " ".join(f"{v:.1f}" for v in values)
        print(f"{name:<26} median {ordered[len(ordered) // 2]:7.1f}   ({blocks})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--blocks", type=int, default=5)
    uvloop.run(main(parser.parse_args()))
