"""How long reports take as the ledger grows: `hub usage` and Slack/Discord `/usage` at 10k
and 1M usage records (issue #14 point 6: 1M within 2x of 10k).

Each size gets a fresh SQLite database (or PostgreSQL with --postgres URL) with one team whose
usage is spread over the current month: 40 members (each on one platform, with one user id;
API members with a key), 8 channels, 5 model aliases on 6 deployments, 3% errors. Records are
bulk-inserted and the rollups built by the migration's own backfill, which yields the same
rows `record_usage` writes (tests/hub/ledger/test_rollups.py checks both). Then, per report,
the median and p95 of --repeat runs in-process (the CLI's start-up is the same at any size):

- `hub usage --team t --by model` (totals and one breakdown, from rollups),
- `/usage` in Slack and in Discord without the invoice estimate (month status, the asker's
  share); with --estimate, also the invoice estimate they append (billing prices every
  usage record: linear, minutes at 1M) and the whole Slack `/usage`,
- the scan `hub usage` did before rollups (SUM over usage_records), as the baseline.

    .venv/bin/python bench/reports.py [--sizes 10000,1000000] [--repeat 15] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from hub.clock import FakeClock  # noqa: E402
from hub.config import parse_settings  # noqa: E402
from hub.model import Caller  # noqa: E402
from hub.service import Hub  # noqa: E402
from hub.store.ledger_tables import UsageRecord  # noqa: E402
from hub.store.migrate import upgrade  # noqa: E402

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
MONTH = datetime(2026, 11, 1, tzinfo=UTC)
PLATFORMS = ("slack", "discord", "openai_api")
ALIASES = {"gpt-4o": ("openai/gpt-4o",), "gpt-4o-mini": ("openai/gpt-4o-mini",),
           "claude": ("anthropic/sonnet", "openai/sonnet-fallback"), "fast": ("demo/fast",),
           "embed": ("openai/embed",)}  # fmt: skip


def settings(url: str) -> Any:
    deployments = {
        alias: {"deployments": [{"provider": "demo", "model": name.split("/")[1],
                                 "input_usd_per_mtok": 2.5, "output_usd_per_mtok": 10.0}
                                for name in names]}
        for alias, names in ALIASES.items()
    }  # fmt: skip
    return parse_settings(
        {"database": {"url": url}, "security": {"secret_key": Fernet.generate_key().decode()},
         "providers": {"demo": {"type": "demo"}}, "models": deployments}, env={},
    )  # fmt: skip


def rows(team_id: int, count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    members = [(n + 1, PLATFORMS[n % 3], f"U{n:03d}") for n in range(40)]
    span = (NOW - MONTH).total_seconds()
    out = []
    for n in range(count):
        member_id, connector, user = members[rng.randrange(len(members))]
        alias = rng.choice(list(ALIASES))
        prompt, completion = rng.randrange(20, 4000), rng.randrange(0, 800)
        out.append({
            "request_id": f"bench-{n}", "team_id": team_id,
            "key_id": member_id if connector == "openai_api" else None, "member_id": member_id,
            "connector": connector, "user": user,
            "channel": None if connector == "openai_api" else f"C{rng.randrange(8)}",
            "workspace": {"slack": "T1", "discord": "G1"}.get(connector), "alias": alias,
            "deployment": rng.choice(ALIASES[alias]), "prompt_tokens": prompt,
            "completion_tokens": completion, "cached_tokens": 0, "cache_write_tokens": 0,
            "reasoning_tokens": 0, "cost_micros": (prompt * 25 + completion * 100) // 10 + 1,
            "latency_ms": rng.randrange(200, 4000), "ttft_ms": rng.randrange(50, 900),
            "status": "error" if rng.random() < 0.03 else "ok", "saved_micros": 0,
            "created_at": MONTH + timedelta(seconds=rng.random() * span),
        })  # fmt: skip
    return out


async def seed(hub: Hub, count: int) -> None:
    await upgrade(hub.engine)
    team = await hub.teams.create("t")
    await hub.bindings.bind("slack", "T1", team)
    await hub.bindings.bind("discord", "G1", team)
    batch = 20_000
    for start in range(0, count, batch):
        chunk = rows(team.id, min(batch, count - start), seed=start)
        for n, row in enumerate(chunk):
            row["request_id"] = f"bench-{start + n}"
        async with hub.engine.begin() as conn:
            if conn.dialect.name == "sqlite":  # the driver's executemany: 10x faster to seed
                await conn.exec_driver_sql(_INSERT, [_driver_row(r) for r in chunk])
            else:
                await conn.execute(insert(UsageRecord), chunk)
    from hub.store.migrations.versions import __path__ as versions  # noqa: PLC0415

    backfill = _backfill(Path(list(versions)[0]))
    async with hub.engine.begin() as conn:
        await conn.run_sync(backfill)


_COLUMNS = ("request_id", "team_id", "key_id", "member_id", "connector", "user", "channel",
            "workspace", "alias", "deployment", "prompt_tokens", "completion_tokens",
            "cached_tokens", "cache_write_tokens", "reasoning_tokens", "cost_micros",
            "latency_ms", "ttft_ms", "status", "saved_micros", "created_at")  # fmt: skip
_QUOTED = ", ".join(f'"{c}"' for c in _COLUMNS)
_INSERT = f"INSERT INTO usage_records ({_QUOTED}) VALUES ({', '.join('?' for _ in _COLUMNS)})"


def _driver_row(row: dict[str, Any]) -> tuple[Any, ...]:
    """A row as SQLAlchemy stores it on SQLite (datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff')."""
    values = dict(row)
    values["created_at"] = row["created_at"].strftime("%Y-%m-%d %H:%M:%S.%f")
    return tuple(values[c] for c in _COLUMNS)


def _backfill(versions: Path) -> Callable[[Any], None]:
    import importlib.util  # noqa: PLC0415

    from alembic.migration import MigrationContext  # noqa: PLC0415
    from alembic.operations import Operations  # noqa: PLC0415

    (path,) = versions.glob("*_usage_rollups.py")
    spec = importlib.util.spec_from_file_location("rollups_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def run(sync_conn: Any) -> None:
        with Operations.context(MigrationContext.configure(sync_conn)):
            module.backfill()

    return run


async def timed(work: Callable[[], Awaitable[object]], repeat: int) -> tuple[float, float]:
    await work()  # warm: statement caches, the price book
    spent = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        spent.append((time.perf_counter() - started) * 1000)
    spent.sort()
    return statistics.median(spent), spent[min(len(spent) - 1, int(0.95 * len(spent)))]


async def measure(
    url: str, count: int, repeat: int, with_estimate: bool
) -> dict[str, tuple[float, float]]:
    from connectors.slack.commands import usage_text  # noqa: PLC0415

    hub = Hub.open(settings(url), clock=FakeClock(NOW))
    try:
        started = time.perf_counter()
        await seed(hub, count)
        seeded = time.perf_counter() - started
        team = await hub.teams.get("t")
        caller = Caller(team.id, "t")
        async with hub.sessions() as session:
            rollup_rows = await session.scalar(text("SELECT count(*) FROM usage_rollups"))
        print(f"  {count:>9,} records, {rollup_rows:,} rollup rows (seeded in {seeded:.1f} s)")

        async def hub_usage() -> object:
            since = hub.usage.month_start()
            await hub.usage.totals(team_id=team.id, since=since)
            return await hub.usage.grouped("model", team_id=team.id, since=since)

        async def usage_status() -> object:
            return await hub.usage.month_status(caller, user="U001")

        async def estimate() -> object:
            return await hub.billing.plan_and_estimate(team.id)

        async def slack_usage() -> object:
            return await usage_text(hub, workspace="T1", user="U000")

        async def raw_scan() -> object:
            async with hub.sessions() as session:
                query = select(UsageRecord.alias, func.count(), func.sum(UsageRecord.cost_micros))
                query = query.where(UsageRecord.team_id == team.id, UsageRecord.created_at >= MONTH)
                query = query.group_by(UsageRecord.alias)
                return (await session.execute(query)).all()

        found = {
            "hub usage --by model": await timed(hub_usage, repeat),
            "/usage without the estimate": await timed(usage_status, repeat),
            "baseline: scan of usage_records": await timed(raw_scan, max(3, repeat // 3)),
        }
        if with_estimate:
            found["invoice estimate (billing)"] = await timed(estimate, 3)
            found["Slack /usage, all of it"] = await timed(slack_usage, 3)
        return found
    finally:
        await hub.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--postgres", help="a PostgreSQL URL to an empty database")
    parser.add_argument(
        "--estimate", action="store_true", help="also time billing's invoice estimate (linear)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"reports on {backend}, Python {platform.python_version()}, {platform.machine()}")
    results = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.postgres or f"sqlite+aiosqlite:///{tmp}/bench.db"
            if args.postgres:
                await _reset_postgres(url)
            results.append(await measure(url, size, args.repeat, args.estimate))
    first = results[0]
    print(f"\n  {'report':<34}" + "".join(f"{f'{s:,} p50/p95 ms':>24}" for s in sizes) + "  ratio")
    for name in first:
        cells = "".join(f"{r[name][0]:>14.2f} / {r[name][1]:>7.2f}" for r in results)
        ratio = results[-1][name][0] / first[name][0]
        print(f"  {name:<34}{cells}  {ratio:>5.2f}x")


async def _reset_postgres(url: str) -> None:
    from hub.store.engine import create_engine  # noqa: PLC0415

    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
