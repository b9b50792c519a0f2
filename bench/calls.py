"""Python calls per chat request: a figure the machine's load does not move.

On the shared 2-core machine, timings scatter by ±15% from one minute to the next; the number
of Python function calls (and generator resumptions) a request costs does not. This runs
`hub.chat` in-process (admission, router, provider over aiohttp, guard, settlement into the
SQLite ledger; not the hub's HTTP server) against `bench/overhead.py`'s fake upstream, counts
calls with cProfile over sequential streamed requests, and prints them per request, by
package and by function. Run it in each tree to compare:

    .venv/bin/python bench/calls.py [--requests 200] [--top 40] [--chunks N] [--shape S] [--cpu]
    PYTHONPATH=/path/to/other/checkout .venv/bin/python /path/to/other/checkout/bench/calls.py
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT))
# This checkout's fake upstream (its --chunks and --shape), also when BENCH_ROOT is another.
sys.path.insert(0, str(Path(__file__).resolve().parent))

BODY = {
    "model": "gpt",
    "messages": [{"role": "user", "content": "Say hello in five words."}],
    "stream": True,
}


def _where(file: str) -> str:
    """A file as a short name: the project's relative to its root, libraries by package."""
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1]
    if file.startswith(str(ROOT)):
        return os.path.relpath(file, ROOT)
    if file.startswith(("~", "<")):
        return "(builtins)"
    return "stdlib/" + Path(file).name


async def main(args: argparse.Namespace) -> None:
    import overhead

    from connectors.openai_api.adapter import parse_chat_request
    from hub.clock import SystemClock
    from hub.model import Caller
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
                database_url=f"sqlite+aiosqlite:///{tmp}/calls.db",
                monthly_budget_micros=10**12,
                clock=SystemClock(),
            )
            caller = Caller(
                team_id=running.team.id, team_name=running.team.name, key_id=running.key.id
            )

            async def one() -> None:
                request = parse_chat_request(dict(BODY), caller=caller, request_id=None)
                async with running.hub.chat(request) as stream:
                    async for _ in stream.events():
                        pass

            try:
                for _ in range(50):  # warm-up: connections, caches
                    await one()
                if args.cpu:  # no profiler: this process's CPU (the hub's side, in-process)
                    began = time.process_time()
                    for _ in range(args.requests):
                        await one()
                    spent = time.process_time() - began
                    print(
                        f"# {ROOT}: {spent / args.requests * 1e6:.0f} µs of process CPU per "
                        f"streamed request, {args.chunks} chunks an answer, shape {args.shape}"
                    )
                    return
                began = time.process_time()
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(args.requests):
                    await one()
                profile.disable()
                spent = time.process_time() - began
            finally:
                await running.close()
    finally:
        upstream.stop()
    stats = pstats.Stats(profile)
    n = args.requests
    by_package: collections.Counter[str] = collections.Counter()
    by_function: collections.Counter[str] = collections.Counter()
    for (file, line, name), (_, calls, _, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = _where(file)
        by_package["/".join(where.split("/")[:2])] += calls
        by_function[f"{where}:{line} {name}"] += calls
    total = stats.total_calls  # type: ignore[attr-defined]
    print(
        f"# {ROOT}: {total / n:.0f} Python calls per streamed request ({n} requests, "
        f"{args.chunks} chunks an answer, shape {args.shape})"
    )
    print(f"# CPU under cProfile: {spent / n * 1000:.2f} ms a request (inflated; compare calls)")
    print("## by package")
    for name, calls in by_package.most_common(args.top):
        print(f"{calls / n:8.1f}  {name}")
    print("## by function")
    for name, calls in by_function.most_common(args.top):
        print(f"{calls / n:8.1f}  {name}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--cpu", action="store_true", help="no profiler: CPU per request")
    parser.add_argument("--chunks", type=int, default=8, help="the upstream answer's chunks")
    parser.add_argument("--shape", default="whole", help="whole, flush or gap:MS (overhead.py)")
    asyncio.run(main(parser.parse_args()))
