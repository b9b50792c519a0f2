"""How much the hub adds on top of a provider, next to a bare aiohttp pass-through proxy.

Three processes besides this one (the load client): a fake OpenAI-compatible upstream that
answers at once, a bare aiohttp proxy that forwards bytes to it, and `hub serve` (one team
with a monthly budget, one key with a requests-per-minute limit, so every request is
authenticated, rate-limited, reserved and settled into a durable usage record). The same
requests go straight to the upstream, through the proxy and through the hub:

- concurrency 1: `--requests` rounds, each sending one request to each target in turn
  (interleaved, so drift hits all three alike); p50/p99 latency and what each adds to the
  direct figure; for streams also the time to the first content chunk (TTFT);
- concurrency 16: `--seconds` of load against each target; req/s, the hub's ratio to the
  bare proxy's req/s measured in the same run, and CPU per request of the proxy and the hub
  (user + system time of its process, from /proc).

Plain and streamed, SQLite and (with `--postgres`) PostgreSQL.

    .venv/bin/python bench/overhead.py [--requests 200] [--seconds 8] [--concurrency 16]
        [--postgres | --postgres-only] [--json results.json] [--baseline DIR] [--sqlite-full]
        [--postgres-sync-on] [--py-spy DIR]

`--baseline DIR` adds a second hub: the same `hub serve`, run from another checkout of the
repository (e.g. `git worktree add --detach /tmp/base <commit>`) with this venv, on its own
database prepared by that checkout's code, measured in the same rounds: before/after figures
from one run, on a machine whose load changes from one minute to the next. `--sqlite-full`
and `--postgres-sync-on` add a hub at the other durability level (fsync / WAL flush per
commit) likewise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT))

BODY = {"model": "gpt", "messages": [{"role": "user", "content": "Say hello in five words."}]}
WORDS = ["Hello", " there,", " how", " are", " you", " today?"]
TICKS = os.sysconf("SC_CLK_TCK")


# --- the fake upstream and the bare proxy (run as `overhead.py upstream|proxy PORT ...`) ---


def _chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> bytes:
    body: dict[str, Any] = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if delta else [],
    }
    if usage is not None:
        body["usage"] = usage
    return b"data: " + json.dumps(body).encode() + b"\n\n"


USAGE = {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18}
DEFAULT_CHUNKS = 2 + len(WORDS)  # the role, a chunk a word, the usage


def sse_chunks(chunks: int = DEFAULT_CHUNKS) -> list[bytes]:
    """The streamed answer as its events: the role, `chunks - 2` words (the default answer's
    six, over and over for a long one: a real answer is about a chunk a token), the usage,
    [DONE]."""
    words = [WORDS[i % len(WORDS)] for i in range(max(0, chunks - 2))]
    usage = USAGE
    if chunks != DEFAULT_CHUNKS:
        usage = {"prompt_tokens": 12, "completion_tokens": len(words)}
        usage["total_tokens"] = 12 + len(words)
    return [
        _chunk({"role": "assistant", "content": ""}),
        *(_chunk({"content": w}) for w in words),
        _chunk({}, usage=usage),
        b"data: [DONE]\n\n",
    ]


SSE = b"".join(sse_chunks())
PLAIN = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(WORDS)},
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }
).encode()


def _upstream_chat(chunks: int, shape: str) -> Any:
    """The fake's handler. `shape`: "whole" (the default) sends the answer in one write, so
    the hub reads it in one or a few network reads; "flush" writes each chunk on its own;
    "gap:MS" also waits MS milliseconds after each, so that the hub reads one chunk per
    network read, as from a real provider generating tokens (latencies then measure the
    gaps too: use it for CPU per request and call counts)."""
    events = sse_chunks(chunks)
    whole = b"".join(events)
    gap = float(shape.split(":", 1)[1]) / 1000 if shape.startswith("gap:") else None

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if not body.get("stream"):
            return web.Response(body=PLAIN, content_type="application/json")
        if shape == "whole":
            return web.Response(body=whole, content_type="text/event-stream")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for event in events[:-1]:
            await response.write(event)
            if gap is not None:
                await asyncio.sleep(gap)
        # [DONE] with the body's end, as a provider's last write: a [DONE] that came alone
        # would leave the hub's connection with a body unfinished, so not reused.
        await response.write_eof(events[-1])
        return response

    return handle


def upstream_args(chunks: int = DEFAULT_CHUNKS, shape: str = "whole") -> list[str]:
    """`start_helper("upstream", *upstream_args(...))`: an answer of `chunks` chunks."""
    if shape not in ("whole", "flush") and not shape.startswith("gap:"):
        raise ValueError(f"unknown answer shape {shape!r}: whole, flush or gap:MS")
    return [str(chunks), shape]


def add_upstream_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--chunks",
        type=int,
        default=DEFAULT_CHUNKS,
        help=f"the fake upstream's streamed answer in this many chunks (default "
        f"{DEFAULT_CHUNKS}: role, six words, usage; a real answer is about a chunk a token)",
    )
    parser.add_argument(
        "--shape",
        default="whole",
        help='how the chunks go out: "whole" (one write), "flush" (a write each) or "gap:MS" '
        "(a write each, MS ms apart: one chunk per network read, as a real provider's)",
    )


def serve_upstream(port: int, chunks: int = DEFAULT_CHUNKS, shape: str = "whole") -> None:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", _upstream_chat(chunks, shape))
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def serve_proxy(port: int, upstream: str) -> None:
    """What any gateway must at least do: receive, forward, stream the answer back."""

    async def forward(request: web.Request) -> web.StreamResponse:
        session: aiohttp.ClientSession = request.app["session"]
        body = await request.read()
        async with session.post(
            upstream + "/chat/completions",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": "Bearer sk-x"},
        ) as answer:
            response = web.StreamResponse(status=answer.status)
            response.content_type = answer.content_type
            await response.prepare(request)
            async for data in answer.content.iter_any():
                await response.write(data)
            await response.write_eof()
            return response

    async def session_ctx(app: web.Application) -> AsyncIterator[None]:
        app["session"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
        yield
        await app["session"].close()

    app = web.Application()
    app.cleanup_ctx.append(session_ctx)
    app.router.add_post("/v1/chat/completions", forward)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# --- processes ---


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


@dataclass
class Process:
    name: str
    base_url: str
    popen: subprocess.Popen[bytes]

    def cpu(self) -> float:
        return cpu_seconds(self.popen.pid)

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.popen.kill()


async def wait_listening(port: int, popen: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"process exited early with {popen.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise RuntimeError(f"nothing listening on port {port}")


async def start_helper(role: str, *args: str) -> Process:
    port = free_port()
    popen = subprocess.Popen([sys.executable, __file__, role, str(port), *args])
    await wait_listening(port, popen)
    return Process(role, f"http://127.0.0.1:{port}/v1", popen)


async def prepare_hub_database(database_url: str, upstream: str) -> tuple[str, str]:
    """Migrate, then one team (monthly budget) and one key (rpm limit): (key, toml)."""
    from tests.support.hubs import model_config, openai_provider_config, start_hub

    config = {
        "providers": {"up": openai_provider_config(upstream, api_key="sk-x")},
        "models": {"gpt": model_config(("up", "gpt-4o-mini", 0.15, 0.6))},
    }
    running = await start_hub(config, database_url=database_url, monthly_budget_micros=10**12)
    await running.hub.rate_limits.set(
        scope="key",
        scope_id=running.key.id,
        team_id=running.team.id,
        rpm=10_000_000,
        tpm=None,
    )
    await running.close()
    toml = (
        f'[database]\nurl = "{database_url}"\n'
        f'[providers.up]\ntype = "openai"\nbase_url = "{upstream}"\napi_key = "sk-x"\n'
        '[models.gpt]\ndeployments = [{ provider = "up", model = "gpt-4o-mini", '
        "input_usd_per_mtok = 0.15, output_usd_per_mtok = 0.6 }]\n"
    )
    return running.key.key, toml


def tree_env(tree: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DATABASE_URL"))}
    env.pop("REDIS_URL", None)
    if tree is not None:  # that checkout's `hub` package before this venv's editable one
        env["PYTHONPATH"] = str(tree)
        env["BENCH_ROOT"] = str(tree)
    return env


async def start_hub_process(
    database_url: str,
    upstream: str,
    workdir: Path,
    *,
    name: str = "hub",
    tree: Path | None = None,
    database_toml: str = "",
) -> Process:
    from tests.support.hubs import SECRET_KEY

    env = tree_env(tree)
    if tree is None:
        key, toml = await prepare_hub_database(database_url, upstream)
    else:  # the baseline's schema and set-up, by the baseline's code
        # Awaited, not run: the loop may be serving the database's way (pg_round_trips' proxy).
        done = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "prepare", database_url, upstream,
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        out, err = await done.communicate()
        if done.returncode:
            raise RuntimeError(f"preparing the baseline's database failed:\n{err.decode()}")
        key, toml = json.loads(out.decode().strip().splitlines()[-1])
    config = workdir / "hub.toml"
    config.write_text(toml.replace("[database]\n", "[database]\n" + database_toml, 1))
    port = free_port()
    env["HUB_SECRET_KEY"] = SECRET_KEY
    log = (workdir / "hub.log").open("wb")  # the per-request log lines, written as in production
    command = [sys.executable, "-c", "import sys; from hub.cli import main; sys.exit(main())"]
    popen = subprocess.Popen(
        [*command, "--config", str(config), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
        cwd=workdir,
    )
    try:
        await wait_listening(port, popen)
    except RuntimeError as exc:
        tail = (workdir / "hub.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{exc}; the hub said:\n{tail}") from None
    process = Process(name, f"http://127.0.0.1:{port}/v1", popen)
    process.key = key  # type: ignore[attr-defined]
    return process


# --- the load client ---


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    ttfts: list[float] = field(default_factory=list)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Client:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def call(self, target: Process, stream: bool, sample: Sample | None) -> None:
        headers = {}
        if (key := getattr(target, "key", None)) is not None:
            headers["Authorization"] = f"Bearer {key}"
        start = time.perf_counter()
        first: float | None = None
        async with self.session.post(
            target.base_url + "/chat/completions", json={**BODY, "stream": stream}, headers=headers
        ) as response:
            if response.status != 200:
                text = await response.text()
                raise RuntimeError(f"{target.name}: HTTP {response.status}: {text}")
            async for data in response.content.iter_any():
                if first is None and b'"content":"H' in data.replace(b" ", b""):
                    first = time.perf_counter()
        end = time.perf_counter()
        if sample is not None:
            sample.latencies.append((end - start) * 1000)
            if stream and first is not None:
                sample.ttfts.append((first - start) * 1000)


async def sequential(
    client: Client, targets: list[Process], stream: bool, rounds: int
) -> dict[str, Sample]:
    samples = {t.name: Sample() for t in targets}
    for target in targets:  # warm-up: connections, caches, the JIT-less interpreter's paths
        for _ in range(20):
            await client.call(target, stream, None)
    # The hubs' order alternates from round to round: run with the same tree twice
    # (`--baseline` this checkout), the hub measured second added 0.2-0.4 ms more at p50.
    flipped = [*targets[:2], *reversed(targets[2:])]
    for index in range(rounds):
        for target in targets if index % 2 == 0 else flipped:
            await client.call(target, stream, samples[target.name])
    return samples


async def loaded(
    client: Client, target: Process, stream: bool, concurrency: int, seconds: float
) -> tuple[float, float | None, Sample]:
    """(req/s, CPU ms per request of the target process, latencies) over `seconds`."""
    sample = Sample()
    await asyncio.gather(*(client.call(target, stream, None) for _ in range(concurrency * 2)))
    stop_at = time.perf_counter() + seconds
    count = 0

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < stop_at:
            await client.call(target, stream, sample)
            count += 1

    cpu_before = target.cpu()
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    cpu = (target.cpu() - cpu_before) * 1000 / count
    return count / elapsed, cpu, sample


async def run_backend(
    label: str,
    database_url: str,
    workdir: Path,
    args: argparse.Namespace,
    upstream: Process,
    proxy: Process,
    results: dict[str, Any],
    baseline_url: str | None = None,
    sync_on_url: str | None = None,
) -> None:
    hubs = [await start_hub_process(database_url, upstream.base_url, workdir)]
    if args.baseline and baseline_url is not None:
        before = workdir / "baseline"
        before.mkdir()
        hubs.insert(
            0,
            await start_hub_process(
                baseline_url, upstream.base_url, before, name="before", tree=Path(args.baseline)
            ),
        )
    if args.sqlite_full and label == "SQLite":
        full = workdir / "full"
        full.mkdir()
        hubs.append(
            await start_hub_process(
                f"sqlite+aiosqlite:///{full}/full.db",
                upstream.base_url,
                full,
                name="full",
                database_toml='sqlite_synchronous = "full"\n',
            )
        )
    if sync_on_url is not None:
        synced = workdir / "sync-on"
        synced.mkdir()
        hubs.append(
            await start_hub_process(
                sync_on_url,
                upstream.base_url,
                synced,
                name="sync-on",
                database_toml='postgres_synchronous_commit = "on"\n',
            )
        )
    direct = Process("direct", upstream.base_url, upstream.popen)
    connector = aiohttp.TCPConnector(limit=args.concurrency * 4)
    try:
        async with aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=60)
        ) as session:
            client = Client(session)
            print(f"\n## {label} ledger  (load average {load_average()})")
            print(
                f"{'concurrency 1':<22}{'direct p50':>11}{'p99':>8}{'proxy +p50':>12}{'+p99':>8}"
                f"{'+p50':>10}{'+p99':>8}{'p50':>9}{'TTFT +p50':>11}{'+p99':>8}"
            )
            for stream in (False, True):
                s = await sequential(client, [direct, proxy, *hubs], stream, args.requests)
                d, p = s["direct"], s["proxy"]
                name = "stream" if stream else "plain"
                for hub in hubs:
                    h = s[hub.name]
                    row: dict[str, Any] = {
                        "direct_p50": pct(d.latencies, 0.5),
                        "direct_p99": pct(d.latencies, 0.99),
                        "proxy_added_p50": pct(p.latencies, 0.5) - pct(d.latencies, 0.5),
                        "proxy_added_p99": pct(p.latencies, 0.99) - pct(d.latencies, 0.99),
                        "hub_added_p50": pct(h.latencies, 0.5) - pct(d.latencies, 0.5),
                        "hub_added_p99": pct(h.latencies, 0.99) - pct(d.latencies, 0.99),
                        "hub_p50": pct(h.latencies, 0.5),
                    }
                    ttft = ""
                    if stream:
                        row["ttft_added_p50"] = pct(h.ttfts, 0.5) - pct(d.ttfts, 0.5)
                        row["ttft_added_p99"] = pct(h.ttfts, 0.99) - pct(d.ttfts, 0.99)
                        ttft = f"{row['ttft_added_p50']:>9.2f}ms{row['ttft_added_p99']:>6.2f}ms"
                    results[f"{label}/{hub.name}/{name}/c1"] = row
                    print(
                        f"{name + ' ' + hub.name:<22}{row['direct_p50']:>9.2f}ms"
                        f"{row['direct_p99']:>6.2f}ms"
                        f"{row['proxy_added_p50']:>10.2f}ms{row['proxy_added_p99']:>6.2f}ms"
                        f"{row['hub_added_p50']:>8.2f}ms{row['hub_added_p99']:>6.2f}ms"
                        f"{row['hub_p50']:>7.2f}ms{ttft}"
                    )
            c = args.concurrency
            print(
                f"{f'concurrency {c}':<22}{'direct r/s':>11}{'proxy r/s':>11}{'r/s':>9}"
                f"{'/proxy':>11}{'proxy CPU/req':>15}{'CPU/req':>13}{'p99':>9}"
            )
            for stream in (False, True):
                d_rps, _, _ = await loaded(client, direct, stream, c, args.seconds)
                p_rps, p_cpu, _ = await loaded(client, proxy, stream, c, args.seconds)
                name = "stream" if stream else "plain"
                for hub in hubs:
                    spy = profiler(args.py_spy, hub, f"{label}-{hub.name}-{stream}", args.seconds)
                    h_rps, h_cpu, h_sample = await loaded(client, hub, stream, c, args.seconds)
                    if spy is not None:
                        spy.wait()
                    row = {
                        "direct_rps": d_rps,
                        "proxy_rps": p_rps,
                        "hub_rps": h_rps,
                        "ratio": h_rps / p_rps,
                        "proxy_cpu_ms": p_cpu,
                        "hub_cpu_ms": h_cpu,
                        "hub_p99": pct(h_sample.latencies, 0.99),
                        "load_average": load_average(),
                    }
                    results[f"{label}/{hub.name}/{name}/c{c}"] = row
                    print(
                        f"{name + ' ' + hub.name:<22}{d_rps:>11.0f}{p_rps:>11.0f}{h_rps:>9.0f}"
                        f"{h_rps / p_rps:>11.3f}{p_cpu:>13.2f}ms{h_cpu:>11.2f}ms"
                        f"{row['hub_p99']:>7.1f}ms"
                    )
    finally:
        for hub in hubs:
            hub.stop()
    records = await count_usage_records(database_url)
    print(f"# usage records in the {label} ledger: {records}")


def load_average() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def profiler(
    where: str | None, target: Process, case: str, seconds: float
) -> subprocess.Popen[bytes] | None:
    """py-spy on the hub while it is under load (`--py-spy DIR`: collapsed stacks per case,
    for flamegraph.pl or speedscope)."""
    if where is None:
        return None
    out = Path(where) / f"{case}.txt"
    spy = str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen(
        [spy, "record", "-p", str(target.popen.pid), "-d", str(int(seconds)), "-f", "raw"]
        + ["--gil", "-r", "250", "-o", str(out)],  # --gil: samples holding the GIL (CPU)
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def count_usage_records(database_url: str) -> int:
    from sqlalchemy import text

    from hub.store.engine import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT count(*) FROM usage_records"))
            return int(rows.scalar_one())
    finally:
        await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    upstream = await start_helper("upstream", *upstream_args(args.chunks, args.shape))
    proxy = await start_helper("proxy", upstream.base_url)
    proxy.name = "proxy"
    results: dict[str, Any] = {}
    try:
        git = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
        print("# UniLLM Hub overhead benchmark")
        print(
            f"# commit {git}, python {platform.python_version()}, {os.cpu_count()} cores; "
            "client, fake upstream, bare aiohttp proxy and `hub serve` are four processes"
        )
        print(
            f"# concurrency 1: {args.requests} interleaved rounds after 20 warm-ups each; "
            f"concurrency {args.concurrency}: {args.seconds:g} s per target; "
            "added = target minus direct (the upstream itself)"
        )
        with tempfile.TemporaryDirectory() as tmp:
            if not args.postgres_only:
                work = Path(tmp) / "sqlite"
                work.mkdir()
                url = f"sqlite+aiosqlite:///{work}/bench.db"
                before = f"sqlite+aiosqlite:///{work}/before.db"
                await run_backend("SQLite", url, work, args, upstream, proxy, results, before)
            if args.postgres or args.postgres_only:
                from tests.support.services import (
                    create_postgres_database,
                    drop_postgres_database,
                )

                url, name = await create_postgres_database()
                before, before_name = await create_postgres_database()
                synced, synced_name = await create_postgres_database()
                work = Path(tmp) / "postgres"
                work.mkdir()
                try:
                    await run_backend(
                        "PostgreSQL",
                        url,
                        work,
                        args,
                        upstream,
                        proxy,
                        results,
                        before,
                        synced if args.postgres_sync_on else None,
                    )
                finally:
                    await drop_postgres_database(name)
                    await drop_postgres_database(before_name)
                    await drop_postgres_database(synced_name)
    finally:
        proxy.stop()
        upstream.stop()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "upstream":
        given = sys.argv[3:5]  # upstream_args: the answer's chunks and shape
        chunks = int(given[0]) if given else DEFAULT_CHUNKS
        serve_upstream(int(sys.argv[2]), chunks, given[1] if len(given) > 1 else "whole")
    elif len(sys.argv) > 3 and sys.argv[1] == "proxy":
        serve_proxy(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) > 3 and sys.argv[1] == "prepare":  # for --baseline, in its checkout
        print(json.dumps(asyncio.run(prepare_hub_database(sys.argv[2], sys.argv[3]))))
    else:
        parser = argparse.ArgumentParser()
        parser.add_argument("--requests", type=int, default=200)
        parser.add_argument("--seconds", type=float, default=8.0)
        parser.add_argument("--concurrency", type=int, default=16)
        parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
        parser.add_argument("--postgres-only", action="store_true")
        parser.add_argument("--json", help="write the figures to this file too")
        parser.add_argument("--py-spy", help="a folder for py-spy flame graphs of the hub")
        parser.add_argument("--baseline", help="another checkout: its hub measured alongside")
        add_upstream_options(parser)
        parser.add_argument(
            "--sqlite-full",
            action="store_true",
            help='also a hub with [database] sqlite_synchronous = "full" (fsync per commit)',
        )
        parser.add_argument(
            "--postgres-sync-on",
            action="store_true",
            help='also a hub with [database] postgres_synchronous_commit = "on" (WAL flush '
            "per commit)",
        )
        asyncio.run(main(parser.parse_args()))
