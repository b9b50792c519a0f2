"""Server timeouts and protocol errors (issue #13): a half-sent request is closed, a stalled
body gets 408 and a closed connection, an idle keep-alive connection is closed, and aiohttp's
own 400s for oversized headers are not logged as ERROR tracebacks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest_asyncio

from tests.support.hubs import RunningHub, start_hub
from tests.support.logs import LogCapture

TIMEOUTS = {"header_timeout_s": 0.3, "body_timeout_s": 0.3, "keepalive_timeout_s": 0.6}


@pytest_asyncio.fixture
async def served(sqlite_url: str) -> AsyncIterator[RunningHub]:
    running = await start_hub({"server": TIMEOUTS}, database_url=sqlite_url)
    await running.serve()
    try:
        yield running
    finally:
        await running.close()


async def _connect(running: RunningHub) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = running.base_url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def _closed_after(reader: asyncio.StreamReader) -> tuple[bytes, float]:
    """Everything the hub sends until it closes, and how long that took."""
    started = time.monotonic()
    async with asyncio.timeout(10):
        data = await reader.read()
    return data, time.monotonic() - started


async def test_a_half_sent_request_line_and_headers_are_closed(served: RunningHub) -> None:
    reader, writer = await _connect(served)
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Ty")
    data, waited = await _closed_after(reader)
    writer.close()
    assert data == b""
    assert waited < 5


async def test_a_stalled_body_gets_408_and_the_connection_is_closed(served: RunningHub) -> None:
    reader, writer = await _connect(served)
    writer.write(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {served.key.key}\r\n".encode()
        + b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model"'
    )
    data, waited = await _closed_after(reader)
    writer.close()
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert b'"code": "request_timeout"' in data
    assert waited < 5


async def test_an_idle_keep_alive_connection_is_closed(served: RunningHub) -> None:
    reader, writer = await _connect(served)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    data, waited = await _closed_after(reader)
    writer.close()
    assert data.startswith(b"HTTP/1.1 200")
    assert waited < 5


async def test_oversized_headers_are_a_400_without_an_error_traceback(
    served: RunningHub, logs: LogCapture
) -> None:
    reader, writer = await _connect(served)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
    data, _ = await _closed_after(reader)
    writer.close()
    assert data.split(b"\r\n")[0].endswith(b" 400 Bad Request")  # aiohttp answers HTTP/1.0
    assert not [r for r in logs.records if r.levelname == "ERROR" or r.exc_info]
    assert any("refused a malformed request" in r.getMessage() for r in logs.records)
