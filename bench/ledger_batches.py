"""The ledger writer's CPU per request on SQLite: reserve and settle, in batches.

A migrated hub on a SQLite file (one team with a monthly budget, one key, as
`bench/overhead.py` sets up), and rounds of `--batch` concurrent reservations then their
settlements (one batch each, as concurrent requests make them), timed by process CPU:

    .venv/bin/python bench/ledger_batches.py [--rounds 400] [--batch 8] [--profile]
    PYTHONPATH=/other/checkout .venv/bin/python /other/checkout/bench/ledger_batches.py

Prints microseconds of CPU per request (reserve + settle) and the batches written; the
same load on every run, so two checkouts compare on a busy machine (CPU time, not wall).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT))

from hub.ledger.usage_entry import UsageEntry  # noqa: E402
from hub.model import Caller, Origin, Usage  # noqa: E402
from tests.support.hubs import start_hub  # noqa: E402


def _entry(caller: Caller, request_id: str, n: int) -> UsageEntry:
    return UsageEntry(
        request_id=request_id,
        caller=caller,
        origin=Origin(connector="openai", user=f"key:{caller.key_id}"),
        alias="demo",
        deployment="demo/demo-1",
        usage=Usage(prompt_tokens=12, completion_tokens=30 + n % 7),
        cost_micros=51 + n % 7,
        latency_ms=2 + n % 5,
        ttft_ms=1 + n % 3,
        status="ok",
        prompt="hello",
        output="world",
        prompt_hash="0123456789abcdef0123456789abcdef",
    )


async def main(rounds: int, batch: int, profile: bool) -> None:
    folder = tempfile.mkdtemp(prefix="hub-ledger-bench-")
    running = await start_hub(
        {}, database_url=f"sqlite+aiosqlite:///{folder}/hub.db", monthly_budget_micros=10**12
    )
    hub = running.hub
    caller = Caller(team_id=running.team.id, team_name="acme", key_id=running.key.id)
    budget, writer = hub.budget, hub.ledger_writer
    serial = 0

    async def one_round() -> None:
        nonlocal serial
        ids = [f"bench-{serial + i}" for i in range(batch)]
        serial += batch
        holds = await asyncio.gather(
            *(budget.reserve(caller, cost_micros=5_000, tokens=600) for _ in ids)
        )
        await asyncio.gather(
            *(
                budget.settle(hold, _entry(caller, rid, serial + i))
                for i, (hold, rid) in enumerate(zip(holds, ids, strict=True))
            )
        )

    for _ in range(max(rounds // 10, 5)):  # warm-up: compiled statements, caches
        await one_round()
    batches, jobs = writer.batches, writer.jobs
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(rounds):
        await one_round()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profiler:
        profiler.disable()
    requests = rounds * batch
    print(
        f"batch {batch}: {1e6 * cpu / requests:.1f} µs CPU per request (reserve + settle), "
        f"{1e6 * wall / requests:.1f} µs wall; {writer.batches - batches} batches of "
        f"{(writer.jobs - jobs) / max(writer.batches - batches, 1):.1f} jobs"
    )
    await running.close()
    shutil.rmtree(folder, ignore_errors=True)
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.batch, args.profile))
