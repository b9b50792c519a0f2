"""PostgreSQL round trips per chat request through `hub serve`, counted on the wire.

A counting TCP proxy sits between `hub serve` and the server: it reads the client's side of
the protocol (SSLRequest, StartupMessage, then typed messages) and counts each Sync and
simple Query (one round trip each: asyncpg's Bind/Execute/Sync, a prepare's Parse/Describe/
Sync, BEGIN and COMMIT as simple queries), the statements bound (by their prepared name's
SQL) and the queries sent. After warm-up requests, `--requests` sequential chat requests
(plain, then streamed) each print the round trips per request and what they were, so a new
wait on the chat path shows up as a count, whatever the machine's load.

It also reads the server's side for ReadyForQuery, and times each round trip from the
client's Sync (or simple Query) passing the proxy to the server's ReadyForQuery passing it
back: the statement's server and wire time, p50/p90 per statement beside its count. That
figure hardly moves with the load of the hub's process (it is the server's work, on the
same machine's other core at worst). Last, where a request's time went, p50 of each part:
from the request sent to its first statement's Sync (the hub's Python before the ledger),
in the statements (server + wire), between and after them (the rest of the hub, the
upstream call, the response).

    .venv/bin/python bench/pg_round_trips.py [--requests 100] [--config-extra 'key = "v"']
        [--baseline /work/wt/base] [--explain] [--set NAME=VALUE] [--py-spy DIR]

Needs HUB_TEST_POSTGRES_URL (or the default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
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
    """What the hub's connections sent: round trips, the statements behind them, and each
    round trip's time from the client's Sync (or Query) to the server's ReadyForQuery."""

    def __init__(self) -> None:
        self.round_trips = 0
        self.statements: Counter[str] = Counter()
        self.times: dict[str, list[float]] = {}
        # (sent, ready, statement) of every round trip, in the bench's clock, in order.
        self.trips: list[tuple[float, float, str]] = []
        self.plans: dict[str, str] = {}  # `--explain`: the last plan auto_explain sent

    def snapshot(self) -> tuple[int, Counter[str], int]:
        return self.round_trips, Counter(self.statements), len(self.trips)


class Link:
    """One client connection's protocol state: its prepared statements, the statement the
    next Sync completes, and the round trips waiting for their ReadyForQuery (in order)."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self._prepared: dict[bytes, str] = {}
        self._bound = ""  # the statement bound since the last Sync ("" : a prepare only)
        self._parsed = ""
        self.waiting: deque[tuple[float, str]] = deque()
        self.untyped_replies = 0  # SSLRequest / GSSENCRequest: one byte back, untyped

    def seen(self, kind: bytes, body: bytes) -> None:
        wire = self.wire
        if kind == b"S":
            wire.round_trips += 1
            label = self._bound or "prepare " + _short(self._parsed)
            self.waiting.append((time.perf_counter(), label))
            self._bound = self._parsed = ""
        elif kind == b"Q":
            wire.round_trips += 1
            label = "Q " + _short(body.rstrip(b"\0").decode(errors="replace"))
            wire.statements[label] += 1
            self.waiting.append((time.perf_counter(), label))
        elif kind == b"P":
            name, _, rest = body.partition(b"\0")
            self._parsed = rest.partition(b"\0")[0].decode(errors="replace")
            self._prepared[name] = self._parsed
        elif kind == b"B":
            _portal, _, rest = body.partition(b"\0")
            name = rest.partition(b"\0")[0]
            self._bound = "B " + _short(self._prepared.get(name, "?"))
            wire.statements[self._bound] += 1

    def notice(self, body: bytes) -> None:
        """A NoticeResponse: with `--explain`, auto_explain's plan of the statement running."""
        fields = {part[:1]: part[1:] for part in body.split(b"\0") if part}
        message = fields.get(b"M", b"").decode(errors="replace")
        if message.startswith("duration:") and self.waiting:
            self.wire.plans[self.waiting[0][1]] = message

    def ready(self) -> None:
        now = time.perf_counter()
        if not self.waiting:  # the startup's ReadyForQuery
            return
        sent, label = self.waiting.popleft()
        self.wire.times.setdefault(label, []).append(now - sent)
        self.wire.trips.append((sent, now, label))


def _short(sql: str) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= 110 else flat[:107] + "..."


async def _client_side(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: Link
) -> None:
    """Forward the client's bytes, parsing its messages on the way."""
    try:
        while True:  # untyped start: SSLRequest / GSSENCRequest (answered 'N'), then Startup
            head = await reader.readexactly(8)
            length, code = struct.unpack("!ii", head)
            rest = await reader.readexactly(length - 8)
            untyped = code in (_SSL_REQUEST, _GSS_REQUEST)
            link.untyped_replies += untyped
            writer.write(head + rest)
            if not untyped:
                break
        while True:
            head = await reader.readexactly(5)
            (length,) = struct.unpack("!i", head[1:])
            body = await reader.readexactly(length - 4)
            link.seen(head[:1], body)
            writer.write(head + body)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _server_side(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: Link
) -> None:
    """Forward the server's bytes, noting each ReadyForQuery as it passes."""
    try:
        while True:
            kind = await reader.readexactly(1)
            if link.untyped_replies:  # 'N' to an SSL / GSS request (counted before it went)
                link.untyped_replies -= 1
                writer.write(kind)
                continue
            head = kind + await reader.readexactly(4)
            (length,) = struct.unpack("!i", head[1:])
            body = await reader.readexactly(length - 4)
            if head[:1] == b"N":
                link.notice(body)
                continue  # the hub's driver would log it
            writer.write(head + body)
            if head[:1] == b"Z":
                link.ready()
                await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def upstream_proxy(
    base_url: str, seen: list[tuple[float, float]]
) -> tuple[asyncio.Server, str]:
    """A TCP pass-through to the fake upstream that notes, per HTTP exchange, when the hub's
    request reached it and when the last byte of the answer passed back (`seen`): a
    request's upstream part, so the rest of the time between statements is the hub's."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, port)
        answered = [True]  # the last exchange has had answer bytes: the hub's next is new

        async def ask() -> None:
            try:
                while data := await reader.read(65536):
                    if answered[0]:
                        now = time.perf_counter()
                        seen.append((now, now))
                        answered[0] = False
                    up_writer.write(data)
            finally:
                up_writer.close()

        async def answer() -> None:
            try:
                while data := await up_reader.read(65536):
                    writer.write(data)
                    seen[-1] = (seen[-1][0], time.perf_counter())
                    answered[0] = True
            except ConnectionError:
                pass
            finally:
                writer.close()

        await asyncio.gather(ask(), answer(), return_exceptions=True)

    listen = free_port()
    server = await asyncio.start_server(accept, "127.0.0.1", listen)
    return server, urlunsplit(parts._replace(netloc=f"127.0.0.1:{listen}"))


async def counting_proxy(host: str, port: int, wire: Wire) -> tuple[asyncio.Server, int]:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, port)
        link = Link(wire)
        await asyncio.gather(
            _client_side(reader, up_writer, link), _server_side(up_reader, writer, link)
        )

    listen = free_port()
    server = await asyncio.start_server(accept, "127.0.0.1", listen)
    return server, listen


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def _ms(values: list[float]) -> str:
    return f"{_p(values, 0.5):6.3f} {_p(values, 0.9):6.3f}"


class Hub:
    """One `hub serve` behind its own counting proxy, and its requests' start and end times."""

    def __init__(
        self, name: str, wire: Wire, process: Any, servers: list[asyncio.Server],
        upstream: list[tuple[float, float]],
    ) -> None:  # fmt: skip
        self.name, self.wire, self.process, self.servers = name, wire, process, servers
        self.upstream = upstream  # (asked, answered) per upstream exchange
        self.calls: list[tuple[float, float]] = []

    def report(self, label: str, requests: int, since: tuple[int, Counter[str], int]) -> None:
        trips, statements, first_trip = since
        wire = self.wire
        print(
            f"{label} [{self.name}]: {(wire.round_trips - trips) / requests:.2f} round trips a "
            "request; per statement: count a request, Sync -> ReadyForQuery p50 p90 (ms)"
        )
        timed: dict[str, list[float]] = {}
        for sent, ready, sql in wire.trips[first_trip:]:
            timed.setdefault(sql, []).append(ready - sent)
        for n, (sql, count) in enumerate((wire.statements - statements).most_common(), start=1):
            print(f"  #{n:<2} {count / requests:6.2f}  {_ms(timed.pop(sql, []))}  {sql}")
        for sql, times in timed.items():  # a prepare: no statement bound
            print(f"      {len(times) / requests:6.2f}  {_ms(times)}  {sql}")
        # Where each request's time went: before its first statement, in each, between.
        # Only the statements of every request (not the background's, which come and go).
        counts = wire.statements - statements
        each = {sql for sql, count in counts.items() if count >= 0.9 * requests}
        names = {sql: f"#{n}" for n, (sql, _) in enumerate(counts.most_common(), start=1)}
        parts: dict[str, list[float]] = {}
        trips_of = [t for t in wire.trips[first_trip:] if t[2] in each]
        exchanges = [(asked, answered, "the upstream") for asked, answered in self.upstream]
        for start, end in self.calls[-requests:]:
            at = start
            mine = [t for t in trips_of + exchanges if start <= t[0] and t[1] <= end]
            for sent, ready, sql in sorted(mine):
                name = names.get(sql, sql)
                parts.setdefault(f"before {name}", []).append(sent - at)
                parts.setdefault(f"in {name}", []).append(ready - sent)
                at = ready
            parts.setdefault("after the last", []).append(end - at)
            parts.setdefault("whole request", []).append(end - start)
        print(
            "  a request's time (the statements of every request, #n as above, and the "
            "upstream's answer, its last byte), p50 p90 (ms):"
        )
        for part, values in parts.items():
            print(f"    {_ms(values)}  {part}")
        for sql in sorted(each, key=names.__getitem__):
            if sql in wire.plans:
                print(f"  plan of {names[sql]} (auto_explain):\n{wire.plans[sql]}")


_EXPLAIN = (
    ("session_preload_libraries", "auto_explain"),
    ("auto_explain.log_min_duration", "0"),
    ("auto_explain.log_analyze", "on"),
    ("auto_explain.log_buffers", "on"),
    ("auto_explain.log_level", "notice"),
)


async def _configure(url: str, database: str, settings: list[tuple[str, str]]) -> None:
    """Server settings for `database`'s new connections (`--explain`: every statement sends
    its plan, analysed with its buffers, to the client as a notice, which the proxy takes;
    `--set`)."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for setting, value in settings:
            await conn.execute(f"ALTER DATABASE \"{database}\" SET {setting} = '{value}'")
    finally:
        await conn.close()


async def _start(
    name: str,
    host: str,
    port: int,
    upstream: Any,
    workdir: Path,
    extra: str,
    tree: Path | None,
    settings: list[tuple[str, str]],
) -> tuple[Hub, str]:
    from tests.support.services import create_postgres_database

    url, database = await create_postgres_database()
    if settings:
        await _configure(url, database, settings)
    parts = urlsplit(url)
    wire = Wire()
    server, listen = await counting_proxy(parts.hostname or host, parts.port or port, wire)
    netloc = parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
    proxied = urlunsplit(parts._replace(netloc=f"{netloc}:{listen}"))
    workdir.mkdir(exist_ok=True)
    exchanges: list[tuple[float, float]] = []
    ahead, upstream_url = await upstream_proxy(upstream.base_url, exchanges)
    process = await start_hub_process(
        proxied, upstream_url, workdir, name=name, tree=tree, database_toml=extra
    )
    return Hub(name, wire, process, [server, ahead], exchanges), database


def _spy(where: str | None, hub: Hub, case: str) -> subprocess.Popen[bytes] | None:
    """py-spy on this checkout's hub during the measured requests (`--py-spy DIR`): the
    samples holding the GIL (its CPU at concurrency 1, which is its added latency less the
    waits), collapsed stacks per case."""
    if where is None:
        return None
    spy = str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen(
        [spy, "record", "-p", str(hub.process.popen.pid), "-f", "raw", "--gil", "-r", "1000"]
        + (["--native"] if os.environ.get("PY_SPY_NATIVE") else [])
        + ["-o", str(Path(where) / f"{case}.txt")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def main(args: argparse.Namespace) -> None:
    from tests.support.services import drop_postgres_database

    upstream = await start_helper("upstream")
    hubs: list[Hub] = []
    databases: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            extra = "".join(f"{line}\n" for line in args.config_extra)
            trees: list[tuple[str, Path | None]] = [("this", None)]
            if args.baseline:
                trees.insert(0, ("baseline", Path(args.baseline)))
            for name, tree in trees:
                settings = [tuple(pair.split("=", 1)) for pair in args.set]
                hub, database = await _start(
                    name, "127.0.0.1", 5432, upstream, Path(tmp) / name, extra, tree,
                    [*(_EXPLAIN if args.explain else ()), *settings],  # type: ignore[list-item]
                )  # fmt: skip
                hubs.append(hub)
                databases.append(database)
            async with aiohttp.ClientSession() as session:

                async def call(hub: Hub, stream: bool) -> None:
                    headers = {"Authorization": f"Bearer {hub.process.key}"}
                    start = time.perf_counter()
                    async with session.post(
                        hub.process.base_url + "/chat/completions",
                        json={**BODY, "stream": stream},
                        headers=headers,
                    ) as response:
                        assert response.status == 200, await response.text()
                        await response.read()
                    hub.calls.append((start, time.perf_counter()))

                for stream in (False, True):
                    for _ in range(20):
                        for hub in hubs:
                            await call(hub, stream)
                    # Let background work of the warm-up (key use, health) pass its tick.
                    await asyncio.sleep(1)
                    since = [hub.wire.snapshot() for hub in hubs]
                    spy = _spy(args.py_spy, hubs[-1], "streamed" if stream else "plain")
                    for _ in range(args.requests):  # interleaved: drift hits both alike
                        for hub in hubs:
                            await call(hub, stream)
                    if spy is not None:
                        spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled
                        await asyncio.to_thread(spy.wait)
                    label = "streamed" if stream else "plain"
                    for hub, before in zip(hubs, since, strict=True):
                        hub.report(label, args.requests, before)
    finally:
        for hub in hubs:
            hub.process.stop()
            for server in hub.servers:
                server.close()
        upstream.stop()
        for database in databases:
            await drop_postgres_database(database)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--config-extra", action="append", default=[], help="a line for [database]")
    parser.add_argument(
        "--baseline", help="another checkout: its hub measured too, requests interleaved"
    )
    parser.add_argument(
        "--set", action="append", default=[], help="NAME=VALUE: a server setting for the hubs' "
        "databases (e.g. plan_cache_mode=force_generic_plan)",
    )  # fmt: skip
    parser.add_argument("--py-spy", help="a folder for py-spy's stacks of this checkout's hub")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print each per-request statement's last plan (auto_explain, ANALYZE, BUFFERS); "
        "the timings then include the analysis",
    )
    asyncio.run(main(parser.parse_args()))
