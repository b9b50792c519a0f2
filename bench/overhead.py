"""How much the hub adds on top of a provider: latency and throughput, direct vs through it.

Starts a fake OpenAI-compatible upstream on 127.0.0.1 that answers at once, and a hub (SQLite,
one team, one key) in front of it. Sends the same requests straight to the upstream and
through the hub: plain and streaming, sequential and concurrent. Prints p50/p99 latency, the
latency the hub adds, and throughput as a ratio of direct throughput measured in the same run.

    .venv/bin/python bench/overhead.py [--requests 300] [--concurrency 20]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/DB]   (a fresh database)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.clock import SystemClock  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI, reply  # noqa: E402
from tests.support.hubs import model_config, openai_provider_config, start_hub  # noqa: E402

BODY = {"model": "gpt", "messages": [{"role": "user", "content": "Say hello in five words."}]}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed(
    n: int, concurrency: int, call: Callable[[], Awaitable[None]]
) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue = list(range(n))

    async def worker() -> None:
        while queue:
            queue.pop()
            start = time.perf_counter()
            await call()
            latencies.append((time.perf_counter() - start) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, n / (time.perf_counter() - began)


async def main(requests: int, concurrency: int, database_url: str | None) -> None:
    async with FakeOpenAI(
        default=reply("Hello there, how are you today?", prompt_tokens=12)
    ) as fake:
        with tempfile.TemporaryDirectory() as tmp:
            running = await start_hub(
                {
                    "providers": {"up": openai_provider_config(fake.base_url)},
                    "models": {"gpt": model_config(("up", "gpt-4o-mini", 0.15, 0.6))},
                    "logging": {"level": "WARNING"},
                },
                database_url=database_url or f"sqlite+aiosqlite:///{tmp}/bench.db",
                clock=SystemClock(),
            )
            await running.serve()
            limits = httpx.Limits(max_connections=concurrency * 2)
            direct = httpx.AsyncClient(base_url=fake.base_url, limits=limits, timeout=30)
            hub = httpx.AsyncClient(
                base_url=running.base_url + "/v1",
                headers={"Authorization": f"Bearer {running.key.key}"},
                limits=limits,
                timeout=30,
            )
            print(f"# UniLLM Hub overhead benchmark: {requests} requests per case")
            ledger = "PostgreSQL" if database_url else "SQLite"
            print(
                f"# python {platform.python_version()}, {os.cpu_count()} cores, {ledger} ledger; "
                "client, hub and a fake upstream answering at once share one event loop"
            )
            print(
                f"{'case':<28}{'direct p50':>11}{'p99':>8}{'hub p50':>10}{'p99':>8}"
                f"{'added p50':>11}{'added p99':>11}{'thru ratio':>12}"
            )
            try:
                for stream in (False, True):
                    for conc in (1, concurrency):
                        body = {**BODY, "stream": stream}

                        async def via(client: httpx.AsyncClient, body: dict = body) -> None:
                            response = await client.post("/chat/completions", json=body)
                            response.raise_for_status()
                            await response.aread()

                        await timed(20, conc, lambda: via(direct))  # warm-up
                        await timed(20, conc, lambda: via(hub))
                        d_lat, d_tp = await timed(requests, conc, lambda: via(direct))
                        h_lat, h_tp = await timed(requests, conc, lambda: via(hub))
                        name = f"{'stream' if stream else 'plain'}, concurrency {conc}"
                        print(
                            f"{name:<28}{pct(d_lat, 0.5):>9.2f}ms{pct(d_lat, 0.99):>6.1f}ms"
                            f"{pct(h_lat, 0.5):>8.2f}ms{pct(h_lat, 0.99):>6.1f}ms"
                            f"{pct(h_lat, 0.5) - pct(d_lat, 0.5):>9.2f}ms"
                            f"{pct(h_lat, 0.99) - pct(d_lat, 0.99):>9.1f}ms"
                            f"{h_tp / d_tp:>12.2f}"
                        )
                print(f"# usage records written: {(await running.hub.usage.totals()).requests}")
            finally:
                await direct.aclose()
                await hub.aclose()
                await running.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database-url", help="an empty database to migrate (default: SQLite)")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency, args.database_url))
