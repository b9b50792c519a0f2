"""The ledger writer's CPU per request on SQLite (or PostgreSQL): reserve and settle, in batches.

A migrated hub on a SQLite file (one team with a monthly budget, one key, as
`bench/overhead.py` sets up), and rounds of `--batch` concurrent reservations then their
settlements (one batch each, as concurrent requests make them), timed by process CPU:

    .venv/bin/python bench/ledger_batches.py [--rounds 400] [--batch 8] [--counts] [--profile]
        [--profile-out FILE] [--postgres]
    PYTHONPATH=/other/checkout .venv/bin/python /other/checkout/bench/ledger_batches.py

Prints microseconds of CPU per request (reserve + settle) and the batches written; the
same load on every run, so two checkouts compare on a busy machine (CPU time, not wall).
CPU time still scatters by ±20% with the machine's load; `--counts` prints figures the load
does not move, per request: the writer connection's SQL statements and SQLite VM steps
(its progress handler, every 100 instructions) and the Python calls of the ledger's code
(cProfile's call counts: the timing of that run is not the figure), the folds of the staged
rollup facts included (those the writer ran during the rounds, and one for the rest after).
`--postgres`: a fresh database on HUB_TEST_POSTGRES_URL's server instead; the CPU is then the
hub's side only (the server's work is the wall time's remainder).
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


async def _hot_updates(hub: object) -> None:
    """PostgreSQL: the ledger tables' updates and how many were HOT (no index entry written;
    the statistics' figures, which each connection reports about once a second: the last
    second's may be missing)."""
    from sqlalchemy import text

    engine = hub.engine  # type: ignore[attr-defined]
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM "
                "pg_stat_user_tables WHERE relname IN ('usage_rollups', 'budget_counters', "
                "'usage_records', 'reservations') ORDER BY relname"
            )
        )
        for name, inserted, updated, hot, deleted in rows:
            print(
                f"  {name}: {inserted} inserted, {updated} updated ({hot} HOT), {deleted} deleted"
            )


async def main(
    rounds: int,
    batch: int,
    profile: bool,
    postgres: bool = False,
    counts: bool = False,
    profile_out: str = "",
) -> None:
    from tests.support.services import create_postgres_database, drop_postgres_database

    folder = tempfile.mkdtemp(prefix="hub-ledger-bench-")
    url, database = (
        await create_postgres_database()
        if postgres
        else (f"sqlite+aiosqlite:///{folder}/hub.db", None)
    )
    running = await start_hub({}, database_url=url, monthly_budget_micros=10**12)
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
    statements, steps = [0], [0]
    if counts and database is None:
        raw = writer._backend._connection().connection.dbapi_connection  # type: ignore[attr-defined]
        raw.set_trace_callback(lambda _sql: statements.__setitem__(0, statements[0] + 1))
        raw.set_progress_handler(lambda: steps.__setitem__(0, steps[0] + 100) or 0, 100)
    profiler = cProfile.Profile() if profile or counts or profile_out else None
    if profiler:
        profiler.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(rounds):
        await one_round()
    # The rollup facts still staged, folded inside the window: a request's share of the
    # folds (hub/ledger/fold.py) is counted with it.
    await hub.folder.fold()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profiler:
        profiler.disable()
    requests = rounds * batch
    print(
        f"batch {batch}: {1e6 * cpu / requests:.1f} µs CPU per request (reserve + settle), "
        f"{1e6 * wall / requests:.1f} µs wall; {writer.batches - batches} batches of "
        f"{(writer.jobs - jobs) / max(writer.batches - batches, 1):.1f} jobs"
    )
    if counts and profiler:
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        ledger = sum(v[1] for k, v in stats.items() if "hub/ledger/" in k[0])
        every = sum(v[1] for v in stats.values())
        print(
            f"per request: {statements[0] / requests:.2f} SQL statements, "
            f"{steps[0] / requests:,.0f} SQLite VM steps, {ledger / requests:.1f} Python calls "
            f"in hub/ledger/ ({every / requests:.1f} in all)"
        )
    if database is not None:
        await _hot_updates(running.hub)
    await running.close()
    shutil.rmtree(folder, ignore_errors=True)
    if database is not None:
        await drop_postgres_database(database)
    if profiler and profile_out:
        profiler.dump_stats(profile_out)
    if profiler and profile:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--counts", action="store_true", help="load-independent figures (SQLite)")
    parser.add_argument("--profile-out", default="", help="write the cProfile stats to this file")
    args = parser.parse_args()
    asyncio.run(
        main(args.rounds, args.batch, args.profile, args.postgres, args.counts, args.profile_out)
    )
