"""What metrics and tracing cost on the hot path, as ratios measured in the same run.

Three hubs (each its own SQLite ledger) in front of one fake OpenAI-compatible upstream that
answers at once:

    bare        the seam wired to a no-op observer: no metrics, no spans
    metrics     the default: Prometheus counters and histograms, tracing off
    traced      metrics + OpenTelemetry on, exporting OTLP/HTTP to a fake collector

Requests go through the OpenAI-compatible API (plain and streamed), in interleaved rounds so
that the machine's noise falls on all three alike. Prints mean and p50 latency per request
and each case's ratio to `bare`, plus what /metrics costs to scrape.

    .venv/bin/python bench/observability.py [--requests 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.clock import SystemClock  # noqa: E402
from hub.ledger.usage_entry import UsageEntry  # noqa: E402
from hub.model import Caller, ChatRequest, ChatResult, Message, Origin, Usage  # noqa: E402
from hub.observer import NullObserver, observe_usage  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI, reply  # noqa: E402
from tests.fakes.otlp_collector import FakeCollector  # noqa: E402
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub  # noqa: E402

BODY = {"model": "gpt", "messages": [{"role": "user", "content": "Say hello in five words."}]}
TOKEN = "bench-metrics-token"


async def hub_for(
    name: str, upstream: str, folder: str, env: dict[str, str] | None = None
) -> RunningHub:
    running = await start_hub(
        {
            "providers": {"up": openai_provider_config(upstream)},
            "models": {"gpt": model_config(("up", "gpt-4o-mini", 0.15, 0.6))},
            "logging": {"level": "WARNING"},
            "metrics": {"bearer_token": TOKEN},
        },
        database_url=f"sqlite+aiosqlite:///{folder}/{name}.db",
        clock=SystemClock(),
        env=env,
    )
    if name == "bare":
        # The composition with a no-op observer: what the request path costs without us.
        running.hub.observer = NullObserver()
        observe_usage(running.hub.sessions, running.hub.observer)
    await running.serve()
    return running


def seam_cost(running: RunningHub, n: int) -> float:
    """Microseconds per request spent in the observer: one request's calls through the seam
    (admission step, one attempt with its first chunk and end, settlement, finished, the
    usage record), exactly as ChatStream and the router make them."""
    hub = running.hub
    model = hub.settings.models["gpt"]
    deployment = model.deployments[0]
    request = ChatRequest(
        caller=Caller(team_id=1, team_name="acme", key_id=1),
        origin=Origin(connector="openai_api"),
        messages=(Message.text("user", "Say hello in five words."),),
        model="gpt",
    )
    usage = Usage(prompt_tokens=12, completion_tokens=7)
    entry = UsageEntry(
        request_id="r", caller=request.caller, origin=request.origin, alias="gpt",
        deployment=deployment.label, usage=usage, cost_micros=7, latency_ms=20, ttft_ms=5,
        status="ok",
    )  # fmt: skip
    result = ChatResult(request_id="r", alias="gpt", text="Hello there", usage=usage)
    result.deployment, result.ttft_ms, result.latency_ms = deployment.label, 5, 20
    began = time.perf_counter()
    for _ in range(n):
        watch = hub.observer.request(request, model)
        with watch.step("admission"):
            pass
        attempt = watch.attempt(deployment, number=1, max_tokens=1024)
        with attempt.current():
            pass
        attempt.first_chunk()
        attempt.ended(usage=usage, finish_reason="stop")
        with watch.step("settlement"):
            hub.observer.usage_recorded(entry)
        watch.finished(result)
    return (time.perf_counter() - began) / n * 1e6


async def one(client: httpx.AsyncClient, stream: bool) -> float:
    began = time.perf_counter()
    response = await client.post("/chat/completions", json={**BODY, "stream": stream})
    response.raise_for_status()
    await response.aread()
    return (time.perf_counter() - began) * 1000


async def main(requests: int, rounds: int) -> None:
    async with (
        FakeOpenAI(default=reply("Hello there, how are you today?", prompt_tokens=12)) as fake,
        FakeCollector() as collector,
    ):
        with tempfile.TemporaryDirectory() as folder:
            env = {
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.origin,
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            }
            hubs = {
                "bare": await hub_for("bare", fake.base_url, folder),
                "metrics": await hub_for("metrics", fake.base_url, folder),
                "traced": await hub_for("traced", fake.base_url, folder, env),
            }
            clients = {
                name: httpx.AsyncClient(
                    base_url=running.base_url + "/v1",
                    headers={"Authorization": f"Bearer {running.key.key}"},
                    timeout=30,
                )
                for name, running in hubs.items()
            }
            print(f"# UniLLM Hub observability overhead: {rounds} rounds x {requests} requests")
            print(
                f"# python {platform.python_version()}, {os.cpu_count()} cores, SQLite ledgers; "
                "client, hubs, upstream and collector share one event loop; sequential requests"
            )
            try:
                for stream in (False, True):
                    times: dict[str, list[float]] = {name: [] for name in hubs}
                    for name in hubs:  # warm-up
                        for _ in range(20):
                            await one(clients[name], stream)
                    # Interleaved request by request: the machine's noise falls on all alike.
                    for _ in range(rounds * requests):
                        for name in hubs:
                            times[name].append(await one(clients[name], stream))
                    base = statistics.median(times["bare"])
                    print(f"\n{'stream' if stream else 'plain'} requests through HTTP")
                    print(f"{'case':<10}{'p50':>10}{'p90':>10}{'added p50':>12}{'p50 ratio':>11}")
                    for name, values in times.items():
                        p50, p90 = statistics.median(values), statistics.quantiles(values, n=10)[-1]
                        print(
                            f"{name:<10}{p50:>8.3f}ms{p90:>8.3f}ms"
                            f"{(p50 - base) * 1000:>10.0f}us{p50 / base:>11.3f}"
                        )
                print("\nthe seam alone, per request (no HTTP, no database): CPU cost of observing")
                for name in ("metrics", "traced"):
                    cost = seam_cost(hubs[name], 2000)
                    print(f"{name:<10}{cost:>8.1f}us  = {cost / 1000 / base:.4f} of a bare request")
                await asyncio.to_thread(hubs["traced"].hub.observability.tracing.flush)
                print(f"\n# spans exported by `traced`: {len(collector.spans)}")
                async with httpx.AsyncClient(base_url=hubs["metrics"].base_url) as http:
                    began = time.perf_counter()
                    scraped = await http.get(
                        "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
                    )
                    took = (time.perf_counter() - began) * 1000
                print(f"# one /metrics scrape: {len(scraped.content):,} bytes in {took:.1f} ms")
            finally:
                for client in clients.values():
                    await client.aclose()
                for running in hubs.values():
                    await running.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
