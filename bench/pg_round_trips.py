"""PostgreSQL round trips per chat request through `hub serve`, counted on the wire.

A counting TCP proxy sits between `hub serve` and the server: it reads the client's side of
the protocol (SSLRequest, StartupMessage, then typed messages) and counts each Sync and
simple Query (one round trip each: asyncpg's Bind/Execute/Sync, a prepare's Parse/Describe/
Sync, BEGIN and COMMIT as simple queries), the statements bound (by their prepared name's
SQL) and the queries sent. After warm-up requests, `--requests` sequential chat requests
(plain, then streamed) each print the round trips per request and what they were, so a new
wait on the chat path shows up as a count, whatever the machine's load.

    .venv/bin/python bench/pg_round_trips.py [--requests 100] [--config-extra 'key = "v"']

Needs HUB_TEST_POSTGRES_URL (or the default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from overhead import BODY, free_port, start_helper, start_hub_process  # noqa: E402

_SSL_REQUEST = 80877103
_GSS_REQUEST = 80877104


class Wire:
    """What the hub's connections sent: round trips and the statements behind them."""

    def __init__(self) -> None:
        self.round_trips = 0
        self.statements: Counter[str] = Counter()
        self._prepared: dict[bytes, str] = {}

    def snapshot(self) -> tuple[int, Counter[str]]:
        return self.round_trips, Counter(self.statements)

    def seen(self, kind: bytes, body: bytes) -> None:
        if kind == b"S":
            self.round_trips += 1
        elif kind == b"Q":
            self.round_trips += 1
            self.statements["Q " + _short(body.rstrip(b"\0").decode(errors="replace"))] += 1
        elif kind == b"P":
            name, _, rest = body.partition(b"\0")
            self._prepared[name] = rest.partition(b"\0")[0].decode(errors="replace")
        elif kind == b"B":
            _portal, _, rest = body.partition(b"\0")
            name = rest.partition(b"\0")[0]
            self.statements["B " + _short(self._prepared.get(name, "?"))] += 1


def _short(sql: str) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= 110 else flat[:107] + "..."


async def _client_side(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, wire: Wire
) -> None:
    """Forward the client's bytes, parsing its messages on the way."""
    try:
        while True:  # untyped start: SSLRequest / GSSENCRequest (answered 'N'), then Startup
            head = await reader.readexactly(8)
            length, code = struct.unpack("!ii", head)
            rest = await reader.readexactly(length - 8)
            writer.write(head + rest)
            if code not in (_SSL_REQUEST, _GSS_REQUEST):
                break
        while True:
            head = await reader.readexactly(5)
            (length,) = struct.unpack("!i", head[1:])
            body = await reader.readexactly(length - 4)
            wire.seen(head[:1], body)
            writer.write(head + body)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _server_side(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def counting_proxy(host: str, port: int, wire: Wire) -> tuple[asyncio.Server, int]:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, port)
        await asyncio.gather(_client_side(reader, up_writer, wire), _server_side(up_reader, writer))

    listen = free_port()
    server = await asyncio.start_server(accept, "127.0.0.1", listen)
    return server, listen


async def main(args: argparse.Namespace) -> None:
    from tests.support.services import create_postgres_database, drop_postgres_database

    url, name = await create_postgres_database()
    parts = urlsplit(url)
    wire = Wire()
    server, port = await counting_proxy(parts.hostname or "127.0.0.1", parts.port or 5432, wire)
    netloc = parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
    proxied = urlunsplit(parts._replace(netloc=f"{netloc}:{port}"))
    upstream = await start_helper("upstream")
    hub: Any = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            extra = "".join(f"{line}\n" for line in args.config_extra)
            hub = await start_hub_process(
                proxied, upstream.base_url, Path(tmp), database_toml=extra
            )
            headers = {"Authorization": f"Bearer {hub.key}"}
            async with aiohttp.ClientSession() as session:

                async def call(stream: bool) -> None:
                    async with session.post(
                        hub.base_url + "/chat/completions",
                        json={**BODY, "stream": stream},
                        headers=headers,
                    ) as response:
                        assert response.status == 200, await response.text()
                        await response.read()

                for stream in (False, True):
                    for _ in range(20):
                        await call(stream)
                    # Let background work of the warm-up (key use, health) pass its tick.
                    await asyncio.sleep(1)
                    trips, statements = wire.snapshot()
                    for _ in range(args.requests):
                        await call(stream)
                    after, seen = wire.snapshot()
                    label = "streamed" if stream else "plain"
                    print(f"{label}: {(after - trips) / args.requests:.2f} round trips a request")
                    for sql, count in (seen - statements).most_common():
                        print(f"  {count / args.requests:6.2f}  {sql}")
    finally:
        if hub is not None:
            hub.stop()
        upstream.stop()
        server.close()
        await drop_postgres_database(name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--config-extra", action="append", default=[], help="a line for [database]")
    asyncio.run(main(parser.parse_args()))
