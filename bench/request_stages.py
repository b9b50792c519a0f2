"""Where a chat request's CPU goes by stage, through the hub's own aiohttp app (cProfile).

Runs the hub's app in-process (`create_app` + `HubRunner`, SQLite ledger, one team and key
with a rate limit, as `bench/overhead.py` sets up) against `bench/overhead.py`'s fake
upstream, sends sequential plain or streamed requests over HTTP from this process, and prints
the time spent in each stage of the server's side per request: aiohttp's protocol, the
middlewares, authentication, the body's reading, parsing and validation, idempotency,
`hub.chat`, the response, the log line and metrics. cProfile inflates everything (about 2x)
and charges its overhead per call, so read the shares and compare trees, not absolute times;
the Python calls per request (client included) are the load-independent figure:

    .venv/bin/python bench/request_stages.py [--requests 300] [--stream]
    PYTHONPATH=/other/checkout .venv/bin/python /other/checkout/bench/request_stages.py
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT))
# This checkout's fake upstream (its --chunks and --shape), also when BENCH_ROOT is another.
sys.path.insert(0, str(Path(__file__).resolve().parent))

# (stage, file suffix, function name): cumulative time of these frames; a frame is counted
# once however deep it recurses. Later stages are inside earlier ones (subtracted below).
STAGES: list[tuple[str, str, str]] = [
    (
        "server: aiohttp protocol (read, parse, dispatch)",
        "aiohttp/web_protocol.py",
        "data_received",
    ),
    ("server: request task", "aiohttp/web_protocol.py", "_handle_request"),
    ("server: request task", "aiohttp/web_protocol.py", "finish_response"),
    ("app: Application._handle", "aiohttp/web_app.py", "_handle"),
    ("middleware: request id", "hub/web.py", "request_id_middleware"),
    ("middleware: observe", "hub/observability/http_server.py", "middleware"),
    ("middleware: error boundary", "hub/error_boundary.py", "error_boundary"),
    ("middleware: the hub's one", "hub/web.py", "middleware"),
    ("handler: chat_completions", "connectors/openai_api/routes.py", "chat_completions"),
    ("auth", "connectors/openai_api/routes.py", "_caller"),
    ("body: read", "hub/request_body.py", "read_body"),
    ("body: JSON", "hub/untrusted.py", "load_json"),
    ("body: validate + convert", "connectors/openai_api/adapter.py", "parse_chat_request"),
    ("idempotency", "connectors/openai_api/idempotent.py", "begin"),
    ("hub.chat: ChatStream enter", "hub/chat_stream.py", "__aenter__"),
    ("hub.chat: ChatStream exit", "hub/chat_stream.py", "__aexit__"),
    ("hub.chat: events", "hub/chat_stream.py", "events"),
    ("log line", "hub/logs.py", "log_chat"),
    ("metrics", "hub/observability/observer.py", "finish"),
    ("response: assemble", "connectors/openai_api/assemble.py", "add"),
    ("response: assemble", "connectors/openai_api/assemble.py", "completion"),
    ("response: chunk objects", "connectors/openai_api/chunks.py", "objects"),
    ("response: SSE write", "connectors/openai_api/routes.py", "_stream"),
    ("response: build", "aiohttp/web_response.py", "__init__"),
    ("response: prepare/write", "aiohttp/web_response.py", "prepare"),
    ("response: prepare/write", "aiohttp/web_response.py", "write"),
    ("response: prepare/write", "aiohttp/web_response.py", "write_eof"),
]


async def main(args: argparse.Namespace) -> None:
    import overhead

    from hub.clock import SystemClock
    from tests.support.hubs import model_config, openai_provider_config, start_hub

    upstream = await overhead.start_helper(
        "upstream", *overhead.upstream_args(args.chunks, args.shape)
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = {
                "providers": {"up": openai_provider_config(upstream.base_url, api_key="sk-x")},
                "models": {"gpt": model_config(("up", "gpt-4o-mini", 0.15, 0.6))},
            }
            running = await start_hub(
                config,
                database_url=f"sqlite+aiosqlite:///{tmp}/stages.db",
                monthly_budget_micros=10**12,
                clock=SystemClock(),
            )
            await running.hub.rate_limits.set(
                scope="key",
                scope_id=running.key.id,
                team_id=running.team.id,
                rpm=10_000_000,
                tpm=None,
            )
            base = await running.serve()
            body = {**overhead.BODY, "stream": args.stream}
            headers = {"Authorization": f"Bearer {running.key.key}"}
            try:
                async with aiohttp.ClientSession() as session:

                    async def one() -> None:
                        async with session.post(
                            base + "/v1/chat/completions", json=body, headers=headers
                        ) as answer:
                            assert answer.status == 200, await answer.text()
                            await answer.read()

                    for _ in range(50):
                        await one()
                    profile = cProfile.Profile()
                    began = time.process_time()
                    profile.enable()
                    for _ in range(args.requests):
                        await one()
                    profile.disable()
                    spent = time.process_time() - began
            finally:
                await running.close()
    finally:
        upstream.stop()
    kind = "streamed" if args.stream else "plain"
    print(f"# {ROOT}: {kind}, {args.chunks} chunks an answer, shape {args.shape}")
    report(pstats.Stats(profile), args.requests, spent)
    if args.top:
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(args.top)


def report(stats: pstats.Stats, n: int, spent: float) -> None:
    cum: dict[str, float] = {}
    for (file, _, name), (_, _, _, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        for stage, suffix, function in STAGES:
            if file.endswith(suffix) and name.rsplit(".", 1)[-1] == function:
                cum[stage] = cum.get(stage, 0.0) + ct
    print(f"# cProfile, {n} sequential requests; process CPU {spent / n * 1e3:.2f} ms a request")
    print("# cumulative µs per request of each stage's frames (nested stages included)")
    for stage in dict.fromkeys(s for s, _, _ in STAGES):
        if stage in cum:
            print(f"{cum[stage] / n * 1e6:9.1f}  {stage}")
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"{total / n * 1e6:9.1f}  everything profiled (client included)")
    # The figure the machine's load does not move (as bench/calls.py): the client's share is
    # the same in every tree, so the difference between two trees is the hub's.
    calls = stats.total_calls  # type: ignore[attr-defined]
    print(f"{calls / n:9.0f}  Python calls per request, client included")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--top", type=int, default=0, help="also the N costliest functions")
    parser.add_argument("--chunks", type=int, default=8, help="the upstream answer's chunks")
    parser.add_argument("--shape", default="whole", help="whole, flush or gap:MS (overhead.py)")
    asyncio.run(main(parser.parse_args()))
