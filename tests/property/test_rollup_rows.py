"""Every rollup row is exactly the sum of its records, row by row, on SQLite and PostgreSQL.

Random usage records, written in random batches by the one writer of usage records
(`write_usage`, as a job of the ledger writer: one transaction per batch, records of a batch
sharing identities or not), with every edge the rows are keyed by drawn: bucket edges
(minutes 14/15, 29/30, 44/45, 59/00, hours 5/6, 11/12, 17/18, 23/00, days, months, zones
other than UTC), latency and TTFT bin edges (`LOWER` ± 1, 0, none, past the last bin),
size classes (0, powers of two ± 1, 2^30 and up), absent dimensions (NULL, ""), fail-overs
(a first deployment, the same one, none, no deployment). The whole `usage_rollups` table then
equals what a plain reading of hub/ledger/cubes.py gives for the stored records: each record
added to its floor (hub/ledger/summary_plan.py) at every grain of every cube, with the
dimensions the cube keeps and its measure's bin (hub/ledger/latency_bins.py `bin_of`,
cubes.py `size_bin`), summed over records, and nothing else."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hub.ledger.cubes import CUBES, GRAINS, HOUR_GRAIN, HOURLY_CUBES, MEASURE_CUBES, size_bin
from hub.ledger.fold import RollupFolder, fold_staged
from hub.ledger.latency_bins import LOWER, bin_of
from hub.ledger.rollups import SUM_COLUMNS
from hub.ledger.summary import UsageFilter
from hub.ledger.summary_plan import (
    floor_day,
    floor_half_hour,
    floor_hour,
    floor_quarter,
    floor_six_hours,
)
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_writer import write_usage
from hub.ledger.writer import Tx
from hub.model import Caller, Origin, Usage
from hub.store.ledger_tables import UsageRecord
from hub.store.rollup_tables import DIMENSION_COLUMNS, ROLLUP_KEY, UsageRollup
from tests.support.hubs import RunningHub

pytestmark = pytest.mark.timeout(300)

FLOORS: dict[str, Callable[[datetime], datetime]] = {
    "15m": floor_quarter,
    "30m": floor_half_hour,
    "1h": floor_hour,
    "6h": floor_six_hours,
    "day": floor_day,
}
ABSENT = {"team_id": 0, "member_id": 0, "key_id": 0}
DAYS = (datetime(2026, 2, 28, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))
ZONES = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-3, minutes=-30)))
EDGE_MS = sorted({0, 1, 2, 3, *(v + d for v in LOWER[::7] for d in (-1, 0, 1)), LOWER[-1] + 5})
# Token columns are 32-bit: the last size class (2^30 and up) as far as they go.
EDGE_TOKENS = sorted({0, 1, *(2**k + d for k in range(1, 31, 3) for d in (-1, 0, 1)),
                      2**30 - 1, 2**30, 2**31 - 1})  # fmt: skip

moments = st.builds(
    lambda day, hour, minute, second, micro, zone: (
        day + timedelta(hours=hour, minutes=minute, seconds=second, microseconds=micro)
    ).astimezone(zone),
    st.sampled_from(DAYS),
    st.sampled_from((0, 5, 6, 11, 12, 17, 18, 23)),
    st.sampled_from((0, 14, 15, 29, 30, 44, 45, 59)),
    st.sampled_from((0, 59)),
    st.sampled_from((0, 999_999)),
    st.sampled_from(ZONES),
)
records = st.fixed_dictionaries(
    {
        "when": moments,
        "key": st.sampled_from((None, 1, 2)),
        "member": st.sampled_from((None, 7)),
        "user": st.sampled_from((None, "", "U1")),
        "connector": st.sampled_from(("slack", "openai_api")),
        "workspace": st.sampled_from((None, "W1")),
        "channel": st.sampled_from((None, "", "C1")),
        "alias": st.sampled_from(("big", "small")),
        "deployment": st.sampled_from((None, "", "p/big", "p/small")),
        "first": st.sampled_from((None, "", "p/big", "p/small")),
        "status": st.sampled_from(("ok", "error")),
        "prompt": st.sampled_from(EDGE_TOKENS),
        "completion": st.sampled_from(EDGE_TOKENS),
        "cached": st.integers(0, 50),
        "cost": st.integers(0, 5_000_000_000),
        "saved": st.integers(0, 1000),
        "latency": st.sampled_from(EDGE_MS),
        "ttft": st.one_of(st.none(), st.sampled_from(EDGE_MS)),
    }
)
# What a copy of a record may measure differently, keeping its identity (dimensions, first
# deployment, quarter hour): its bins, so one identity's records fall into several bins of a
# slot (rows summed per key and bin by the fold).
measures = st.fixed_dictionaries(
    {
        "latency": st.sampled_from(EDGE_MS),
        "ttft": st.one_of(st.none(), st.sampled_from(EDGE_MS)),
        "prompt": st.sampled_from(EDGE_TOKENS),
        "completion": st.sampled_from(EDGE_TOKENS),
    }
)
# Batches: some of one record, some of several sharing an identity (the same record drawn
# again: only the request id differs, or also what it measured), some of mixed ones.
batches = st.lists(
    st.tuples(
        st.lists(records, min_size=1, max_size=6),
        st.integers(1, 6),
        st.lists(measures, max_size=5),
    ),
    min_size=1,
    max_size=6,
)

counter = itertools.count()


def entry(team: Caller, n: int, r: dict[str, Any]) -> UsageEntry:
    caller = Caller(team.team_id, team.team_name, key_id=r["key"], member_id=r["member"])
    return UsageEntry(
        request_id=f"rr-{team.team_id}-{n}",
        caller=caller,
        origin=Origin(
            r["connector"], user=r["user"], channel=r["channel"], workspace=r["workspace"]
        ),  # fmt: skip
        alias=r["alias"],
        deployment=r["deployment"],
        usage=Usage(
            prompt_tokens=r["prompt"], completion_tokens=r["completion"], cached_tokens=r["cached"]
        ),  # fmt: skip
        cost_micros=r["cost"],
        latency_ms=r["latency"],
        ttft_ms=r["ttft"],
        status=r["status"],
        saved_micros=r["saved"],
        first_deployment=r["first"],
    )


def expected_rollups(stored: list[UsageRecord]) -> dict[tuple[Any, ...], tuple[int, ...]]:
    """The rollups as cubes.py describes them, summed record by record."""
    shapes = [(cube, kept, (*GRAINS, HOUR_GRAIN) if cube in HOURLY_CUBES else GRAINS, "")
              for cube, kept in CUBES.items()]  # fmt: skip
    shapes += [(name, c.dimensions, c.grains, c.measure or name)
               for name, c in MEASURE_CUBES.items()]  # fmt: skip
    table: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(SUM_COLUMNS))
    for record in stored:
        first = record.first_deployment or record.deployment
        bins = {
            "": 0,
            "latency": bin_of(record.latency_ms),
            "ttft": None if record.ttft_ms is None else bin_of(record.ttft_ms),
            "failover": None if not first else int(first != record.deployment),
            "size": size_bin(record.prompt_tokens, record.completion_tokens),
        }
        ttft = record.ttft_ms
        sums = (
            1, record.prompt_tokens, record.completion_tokens, record.cached_tokens,
            record.cache_write_tokens, record.reasoning_tokens, record.cost_micros,
            record.saved_micros, record.latency_ms, ttft or 0, int(ttft is not None),
        )  # fmt: skip
        for cube, kept, grains, measure in shapes:
            bin_ = bins[measure]
            if bin_ is None:
                continue
            dimensions = {}
            for name in DIMENSION_COLUMNS:
                value = getattr(record, name)
                absent = ABSENT.get(name, "")
                dimensions[name] = value if name in kept and value is not None else absent
            if cube == "failover":
                dimensions["deployment"] = first
            for grain in grains:
                key = (cube, grain, FLOORS[grain](record.created_at),
                       *(dimensions[n] for n in DIMENSION_COLUMNS), bin_)  # fmt: skip
                row = table[key]
                for i, amount in enumerate(sums):
                    row[i] += amount
    return {key: tuple(row) for key, row in table.items()}


# What happens after each batch: nothing, a fold, a fold that dies before its COMMIT (a kill
# -9 of the hub mid-fold: its transaction rolled back, the facts still staged), a restart (the
# folder's in-memory state lost, the staged facts kept: the new one folds at start-up), or a
# report read with no fold asked for.
ACTIONS = ("none", "fold", "killed fold", "restart", "report")


class Killed(Exception):
    pass


def killed_fold(tx: Tx) -> None:
    fold_staged(tx.conn)
    raise Killed  # before COMMIT: the fold's transaction is rolled back


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=batches, actions=st.lists(st.sampled_from(ACTIONS), min_size=6, max_size=6))
async def test_every_rollup_row_is_the_sum_of_its_records(
    running: RunningHub,
    drawn: list[tuple[list[dict[str, Any]], int, list[dict[str, Any]]]],
    actions: list[str],
) -> None:
    """Settled records' facts are staged and folded later: whatever the interleaving of
    writes, folds, folds killed before their COMMIT and restarts, the rollups after a fold
    are exactly the records' rows, and a report read at any point (no fold asked for) is
    exactly the records' sums."""
    hub = running.hub
    team = await hub.teams.create(f"rr-{next(counter)}")
    caller = Caller(team_id=team.id, team_name=team.name)
    numbers = itertools.count()
    for step, (kinds, copies, varied) in enumerate(drawn):
        batch = [
            (entry(caller, next(numbers), {**r, **(varied[c - 1] if 0 < c <= len(varied) else {})}),
             r["when"])
            for r in kinds
            for c in range(copies)
        ]  # fmt: skip

        def write(tx: Tx, batch: list[tuple[UsageEntry, datetime]] = batch) -> list[int]:
            return write_usage(tx.conn, batch)

        assert len(await hub.budget.writer.run(write)) == len(batch)
        action = actions[step % len(actions)]
        if action == "fold":
            await hub.folder.fold()
            assert await table(hub, team.id) == expected_rollups(await stored_records(hub, team.id))
        elif action == "killed fold":
            before = await table(hub, team.id)
            with pytest.raises(Killed):
                await hub.budget.writer.run(killed_fold)
            assert await table(hub, team.id) == before
        elif action == "restart":
            await hub.folder.close()
            await RollupFolder(hub.ledger_writer, hub.engine).fold()  # a new process's `Hub.start`
        elif action == "report":
            assert await report(hub, team.id) == totals(await stored_records(hub, team.id))
    # The report folded what was still staged: the table read below is whole.
    assert await report(hub, team.id) == totals(await stored_records(hub, team.id))
    async with hub.sessions() as session:
        stored = list(
            await session.scalars(select(UsageRecord).where(UsageRecord.team_id == team.id))
        )
        rollups = list(
            await session.scalars(select(UsageRollup).where(UsageRollup.team_id == team.id))
        )
    assert len(stored) == sum(len(kinds) * copies for kinds, copies, _ in drawn)
    got = {
        tuple(getattr(r, name) for name in ROLLUP_KEY): tuple(getattr(r, n) for n in SUM_COLUMNS)
        for r in rollups
    }
    assert len(got) == len(rollups)  # one row per key
    assert got == expected_rollups(stored)


async def stored_records(hub: Any, team_id: int) -> list[UsageRecord]:
    async with hub.sessions() as session:
        return list(
            await session.scalars(select(UsageRecord).where(UsageRecord.team_id == team_id))
        )


async def table(hub: Any, team_id: int) -> dict[tuple[Any, ...], tuple[int, ...]]:
    async with hub.sessions() as session:
        rows = await session.scalars(select(UsageRollup).where(UsageRollup.team_id == team_id))
        return {
            tuple(getattr(r, name) for name in ROLLUP_KEY): tuple(
                getattr(r, n) for n in SUM_COLUMNS
            )
            for r in rows
        }


async def report(hub: Any, team_id: int) -> tuple[int, int, int, int]:
    """The team's all-time totals as `hub usage` and the dashboard read them."""
    total = (
        await hub.usage.summary(since=None, until=None, where=UsageFilter(team_id=team_id))
    ).total
    return (total.requests, total.prompt_tokens, total.completion_tokens, total.cost_micros)


def totals(stored: list[UsageRecord]) -> tuple[int, int, int, int]:
    return (
        len(stored),
        sum(r.prompt_tokens for r in stored),
        sum(r.completion_tokens for r in stored),
        sum(r.cost_micros for r in stored),
    )
