"""Each dashboard page's server time at 10k and 1M usage records (#16 point 3: < 300 ms at 1M).

Each size gets a fresh SQLite database (or PostgreSQL with --postgres URL) seeded as
bench/reports.py does (one team, a month of usage: 40 members, 8 channels, 5 aliases, 3%
errors), plus what the cost suggestions read: a prompt hash on every record (a fifth of them
repeats from a pool) and a fail-over on 2% of them. The rollups are built by the migrations'
own backfills (the same rows `record_usage` writes; tests/hub/ledger/test_rollups.py and
test_histograms.py check both). Then the dashboard is served in-process (aiohttp's test
server, the real app) and each page is fetched --repeat times signed in as the team's admin:
the median and p95 of the wall time per request (the client's share is well under 1 ms), and
the median CPU time the process spent on it (`cpu`: every thread's, the database driver's
too; on this shared machine it moves much less with the load than the wall time does).

    .venv/bin/python bench/dashboard.py [--sizes 10000,1000000] [--repeat 9] [--postgres URL]
        [--keep DIR] [--only "PAGE;PAGE"]

Figures (README, Dashboard, Speed; 2 December 2026, 2 cores, SQLite, p50 at 1M, at a load
of 1-3): usage by hour in Asia/Kolkata 1,103 ms with hour buckets, 210 ms with quarter-hour
ones; by Slack channel and hour 658 -> 435 ms; models 323 -> 463 ms and in Kolkata 860 ->
641 ms (still over 300 ms); a team's suggestions made afresh 8 s (a job's work now, the page
reads them stored, 10 ms). 3 December, load 3.7-5.2, same-run pairs against 2a293b1 (README):
per-deployment hour/day histograms and hour buckets for channels took models from 280-368
to 172-270 ms, models in Kolkata 397-799 -> 340-466, channel by hour 353-613 -> 151-473.
3 December afternoon, load 9.4-12.4, same-run pairs against bc1b0bb (README), p50 wall and
median CPU: six-hour and half-hour per-deployment buckets took models in Kolkata from
215-372 to 123-390 ms (CPU 152 -> 134), the table body written in Python channel by hour
from 202-355 to 133-219 (CPU 132 -> 97); at load 1.6-2.4 against e718752 every page was
under 300 ms (models in Kolkata 138-147 -> 110-168). PostgreSQL, 1M, load 3.3-4.1, reads
without parallel workers (05588a8 -> e718752): models in Kolkata 259-273 -> 112-113 ms,
models 155-161 -> 88-91, overview 64-66 -> 35-37. After the server starts, the start-up
heap is frozen as `hub serve` does (gc.freeze).

With --keep DIR (SQLite only) each size's database is kept as DIR/bench-SIZE.db and reused
by later runs (seeding 1M records takes minutes; a reused database is migrated to the head
and gets a new admin key). On PostgreSQL the database is seeded afresh (9 minutes for 1M
on this machine) and ANALYZEd as autovacuum would; --reuse measures one seeded by an earlier
run (same size) instead.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import ClientSession, CookieJar  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from bench.reports import _COLUMNS, NOW, _reset_postgres, rows, settings  # noqa: E402
from connectors.dashboard import plugin as dashboard  # noqa: E402
from hub.clock import FakeClock  # noqa: E402
from hub.service import Hub  # noqa: E402
from hub.store.ledger_tables import UsageRecord  # noqa: E402
from hub.store.migrate import upgrade  # noqa: E402
from hub.suggestions import Suggestions  # noqa: E402
from hub.web import create_app  # noqa: E402

PAGES = {
    "overview": "/",
    "usage by model": "/usage?group_by=model&from=2026-11-01&to=2026-11-28&tz=UTC",
    "usage by day, Kolkata": "/usage?group_by=day&from=2026-11-01&to=2026-11-28&tz=Asia/Kolkata",
    "usage by channel, hour": "/usage?group_by=slack_channel,hour&from=2026-11-20&to=2026-11-28"
    "&tz=America/New_York",
    "usage by hour, Kolkata": "/usage?group_by=hour&from=2026-11-20&to=2026-11-28&tz=Asia/Kolkata",
    "usage.csv by member": "/usage.csv?group_by=member&from=2026-11-01&to=2026-11-28&tz=UTC",
    "usage.json by key, day": "/usage.json?group_by=key,day&from=2026-11-01&to=2026-11-28&tz=UTC",
    "models": "/models?from=2026-11-01&to=2026-11-28&tz=Europe/Paris",
    "models, Kolkata": "/models?from=2026-11-01&to=2026-11-28&tz=Asia/Kolkata",
    "requests": "/requests",
    "suggestions": "/suggestions",
    "saved views": "/usage/views",
}
# Not a page: a team's suggestions made afresh, what the job (hub/suggestion_reports.py) does
# per team; the page reads the stored report (made here by its warm-up fetch).
UNCACHED = "suggestions, uncached"
VERSIONS = Path(__file__).resolve().parents[1] / "hub" / "store" / "migrations" / "versions"
BACKFILLS = (
    "*_usage_rollups.py",
    "*_latency_histograms.py",
    "*_suggestion_measures.py",
    "*_quarter_rollups.py",
    "*_deployment_histograms.py",
    "*_where_hours.py",
    "*_half_hour_histograms.py",
    "*_six_hour_histograms.py",
)


def with_measures(chunk: list[dict[str, Any]], start: int) -> list[dict[str, Any]]:
    rng = random.Random(start)
    for n, row in enumerate(chunk):
        row["request_id"] = f"bench-{start + n}"
        repeated = rng.random() < 0.2
        row["prompt_hash"] = f"{rng.randrange(5000) if repeated else start + n:032x}"
        if rng.random() < 0.02:  # failed over from the alias's first deployment
            row["first_deployment"] = "openai/first-" + row["alias"]
    return chunk


COLUMNS = (*_COLUMNS, "prompt_hash", "first_deployment")
INSERT = (
    f"INSERT INTO usage_records ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)})"
)


def driver_row(row: dict[str, Any]) -> tuple[Any, ...]:
    """A row as SQLAlchemy stores it on SQLite (datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff')."""
    values = {**row, "created_at": row["created_at"].strftime("%Y-%m-%d %H:%M:%S.%f")}
    return tuple(values.get(c) for c in COLUMNS)


async def seed(hub: Hub, count: int) -> str:
    await upgrade(hub.engine)
    team = await hub.teams.create("t")
    admin = await hub.keys.create(team, name="admin", role="admin")
    batch = 20_000
    for start in range(0, count, batch):
        chunk = with_measures(rows(team.id, min(batch, count - start), seed=start), start)
        async with hub.engine.begin() as conn:
            if conn.dialect.name == "sqlite":  # the driver's executemany: 10x faster to seed
                await conn.exec_driver_sql(INSERT, [driver_row(r) for r in chunk])
            else:
                for row in chunk:
                    row.setdefault("first_deployment", None)
                await conn.execute(insert(UsageRecord), chunk)
    for pattern in BACKFILLS:
        backfill = _backfill(pattern)
        async with hub.engine.begin() as conn:
            await conn.run_sync(backfill)
    if hub.engine.dialect.name == "postgresql":
        # The planner's statistics, as autovacuum gathers them for tables that grew this much
        # (without them a fresh database's range scans are planned blind).
        async with hub.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
    await hub.saved_views.save(team.id, "by model", "group_by=model&tz=UTC")
    return admin.key


def _backfill(pattern: str) -> Any:
    from alembic.migration import MigrationContext  # noqa: PLC0415
    from alembic.operations import Operations  # noqa: PLC0415

    (path,) = VERSIONS.glob(pattern)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def run(sync_conn: Any) -> None:
        with Operations.context(MigrationContext.configure(sync_conn)):
            module.backfill()

    return run


async def reuse(hub: Hub) -> str:
    """A seeded database kept by --keep, migrated to this code's schema (its backfills, timed):
    a new admin key for its team."""
    started = time.perf_counter()
    await upgrade(hub.engine)
    print(f"  migrated in {time.perf_counter() - started:.1f} s")
    team = await hub.teams.get("t")
    return (await hub.keys.create(team, name=f"admin-{time.time_ns()}", role="admin")).key


async def measure(
    url: str, count: int, repeat: int, pages: dict[str, str], *, reused: bool = False
) -> dict[str, tuple[float, float, float]]:
    hub = Hub.open(settings(url), clock=FakeClock(NOW))
    server = TestServer(create_app(hub, plugins=[dashboard]))
    try:
        started = time.perf_counter()
        key = await reuse(hub) if reused else await seed(hub, count)
        seeded = time.perf_counter() - started
        async with hub.sessions() as session:
            rollups = await session.scalar(text("SELECT count(*) FROM usage_rollups"))
        print(f"  {count:>9,} records, {rollups:,} rollup rows (seeded in {seeded:.1f} s)")
        await server.start_server()
        # As `hub serve` does once started (hub/cli/serve.py): what start-up built is kept out
        # of the collector's sight, so a page's collections walk only what it made.
        gc.collect()
        gc.freeze()
        found = {}
        jar = CookieJar(unsafe=True)  # a cookie for 127.0.0.1
        async with ClientSession(base_url=str(server.make_url("")), cookie_jar=jar) as client:
            signed = await client.post("/login", data={"key": key}, allow_redirects=False)
            assert signed.status == 303, await signed.text()
            for name, path in pages.items():
                if name == UNCACHED:
                    continue
                spent, busy = [], []
                for n in range(repeat + 1):
                    begun, cpu = time.perf_counter(), time.process_time()
                    async with client.get(path, allow_redirects=False) as response:
                        await response.read()
                        assert response.status == 200, (path, response.status)
                    if n:  # the first is a warm-up (statement caches, the price book)
                        spent.append((time.perf_counter() - begun) * 1000)
                        busy.append((time.process_time() - cpu) * 1000)
                spent.sort()
                found[name] = (statistics.median(spent),
                               spent[min(len(spent) - 1, int(0.95 * len(spent)))],
                               statistics.median(busy))  # fmt: skip
        if UNCACHED in pages:
            found[UNCACHED] = await uncached_suggestions(hub, max(1, min(repeat, 3)))
        return found
    finally:
        gc.unfreeze()
        await server.close()
        await hub.close()


async def uncached_suggestions(hub: Hub, repeat: int) -> tuple[float, float, float]:
    """The suggestions' own computation, as the job makes it for one team (the page serves
    the stored report): median and worst of `repeat` runs, in ms."""
    reports = hub.settings.reports.model_copy(update={"suggestions_cache_s": 0})
    fresh = Suggestions(hub.usage, hub.prices, hub.settings.model_copy(update={"reports": reports}),
                        hub.clock)  # fmt: skip
    team = await hub.teams.get("t")
    spent, busy = [], []
    for _ in range(repeat):
        begun, cpu = time.perf_counter(), time.process_time()
        await fresh.for_team(team.id)
        spent.append((time.perf_counter() - begun) * 1000)
        busy.append((time.process_time() - cpu) * 1000)
    return statistics.median(spent), max(spent), statistics.median(busy)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--postgres", help="a PostgreSQL URL to an empty database")
    parser.add_argument("--keep", help="a folder to keep (and reuse) the SQLite databases in")
    parser.add_argument("--reuse", action="store_true",
                        help="with --postgres: the database was seeded by an earlier run (one "
                             "size); migrate and reuse it instead of seeding it again")  # fmt: skip
    parser.add_argument("--only", help="page names to fetch, separated by ; (default: all)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    names = [*PAGES, UNCACHED]
    pages = {n: PAGES.get(n, "") for n in names if not args.only or n in args.only.split(";")}
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"dashboard pages on {backend}, Python {platform.python_version()}, {platform.machine()}")
    print(f"  load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(args.keep or tmp)
            folder.mkdir(parents=True, exist_ok=True)
            db = folder / f"bench-{size}.db"
            url = args.postgres or f"sqlite+aiosqlite:///{db}"
            if args.postgres and not args.reuse:
                await _reset_postgres(url)
            seeded = folder / f"bench-{size}.seeded"  # written once the seeding finished
            kept = args.keep is not None and seeded.exists()
            reused = bool(args.reuse) if args.postgres else kept
            if not reused:
                db.unlink(missing_ok=True)
            results.append(await measure(url, size, args.repeat, pages, reused=reused))
            seeded.touch()
    print(f"  load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\n  {'page':<26}" + "".join(f"{f'{s:,} p50/p95 ms, cpu':>32}" for s in sizes)
          + "  ratio")  # fmt: skip
    for name in pages:
        cells = "".join(f"{r[name][0]:>14.1f} / {r[name][1]:>7.1f}, {r[name][2]:>6.1f}"
                        for r in results)  # fmt: skip
        ratio = results[-1][name][0] / results[0][name][0]
        print(f"  {name:<26}{cells}  {ratio:>5.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
