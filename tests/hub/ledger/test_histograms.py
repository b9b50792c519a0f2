"""Latency and TTFT percentiles read from the rollups' bins: the merged histogram of any range,
filter, grouping and timezone is exactly the bins of the matching usage records, so every
percentile is the exact nearest-rank value's bin (within the stated ±4.4%); and the
migration's backfill builds the same bins from existing records."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select

from hub.ledger.histograms import histogram_dimensions
from hub.ledger.latency_bins import (
    BINS,
    LOWER,
    RELATIVE_ERROR,
    Histogram,
    bin_of,
    bin_range,
    bin_value,
)
from hub.ledger.summary import UsageFilter
from hub.ledger.summary_plan import (
    HALF_HOUR,
    SIX_HOURS,
    Piece,
    local_days,
    plan_grouped,
    rounded_spans,
    whole_hours,
    whole_spans,
)
from hub.store.ledger_tables import UsageRecord
from hub.store.rollup_tables import UsageRollup
from tests.hub.ledger.test_rollups import (
    ANCHORS,
    FILTERS,
    SEEDED,
    ZONES,
    _migration,
    at,
    matches,
    record,
    records,
    replace_usage,
    running,
    value_of,
)
from tests.support.hubs import RunningHub

__all__ = ["running"]  # the fixture, shared with test_rollups

SPLITTABLE = histogram_dimensions()
histogram_queries = st.lists(
    st.fixed_dictionaries(
        {
            "measure": st.sampled_from(("latency", "ttft")),
            "zone": st.sampled_from(ZONES),
            "anchor": st.sampled_from(ANCHORS),
            "start_days": st.integers(-3, 2),
            "length_days": st.integers(0, 4),
            "group_by": st.lists(st.sampled_from(SPLITTABLE), max_size=2, unique=True),
            "filter": st.one_of(
                st.none(),
                st.sampled_from(["model", "deployment", "connector", "status"]).flatmap(
                    lambda name: st.tuples(st.just(name), st.sampled_from(FILTERS[name]))
                ),
            ),
            "team": st.sampled_from((None, 0, 1)),
            "moments": st.one_of(
                st.none(), st.tuples(st.integers(-4000, 4000), st.integers(1, 6000))
            ),
        }
    ),
    min_size=1,
    max_size=4,
)


def nearest_rank(values: list[int], fraction: float) -> int:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def test_bins_cover_every_millisecond_once_and_their_middle_is_within_the_stated_error() -> None:
    assert bin_of(0) == 0 and bin_of(1) == 1 and bin_of(10**9) == BINS - 1
    for ms in [*range(5000), *range(5000, 2**21, 997)]:
        low, high = bin_range(bin_of(ms))
        assert low <= ms and (high is None or ms < high)
        middle = bin_value(bin_of(ms))
        if high is not None:  # the open last bin has no middle
            assert abs(middle - ms) <= max(1.0, RELATIVE_ERROR * ms + 0.5), ms
    assert LOWER == tuple(sorted(LOWER))
    assert abs(RELATIVE_ERROR - 0.0443) < 0.0001


def test_percentiles_are_nearest_rank_over_the_merged_bins() -> None:
    values = [120, 80, 95, 3000, 101, 99, 87, 240, 130, 110]
    one = Histogram({bin_of(v): 0 for v in values})
    counts: dict[int, int] = defaultdict(int)
    for v in values:
        counts[bin_of(v)] += 1
    merged = Histogram(dict(counts)) + one
    assert merged.count == 10
    for fraction in (0.5, 0.95, 0.99):
        assert merged.percentile_bin(fraction) == bin_of(nearest_rank(values, fraction))
    assert Histogram({}).percentile(0.5) is None


@SEEDED
@given(drawn=records, asked=histogram_queries)
async def test_histograms_equal_the_bins_of_the_usage_records(
    running: tuple[RunningHub, list[int]], drawn: list[dict[str, Any]], asked: list[dict[str, Any]]
) -> None:
    hub_, team_ids = running
    await replace_usage(hub_, drawn, team_ids)
    async with hub_.hub.sessions() as session:
        rows = list((await session.scalars(select(UsageRecord))).all())
    for query in asked:
        await check_histograms(hub_, team_ids, rows, query)


# What the models page and the overview ask: by deployment, local day or hour (or nothing),
# for a team or one deployment, which the per-deployment cubes answer (day, hour and half-hour
# buckets, the full cube's quarters only for what is left), in zones with half-hour and
# 45-minute offsets and DST changes (Lord Howe's is 30 minutes).
per_deployment_queries = st.lists(
    st.fixed_dictionaries(
        {
            "measure": st.sampled_from(("latency", "ttft")),
            "zone": st.sampled_from(ZONES),
            "anchor": st.sampled_from(ANCHORS),
            "start_days": st.integers(-3, 2),
            "length_days": st.integers(0, 4),
            "group_by": st.lists(
                st.sampled_from(("deployment", "day", "hour", "team")), max_size=2, unique=True
            ),  # fmt: skip
            "filter": st.one_of(
                st.none(), st.tuples(st.just("deployment"), st.sampled_from(FILTERS["deployment"]))
            ),
            "team": st.sampled_from((None, 0, 1)),
            "moments": st.one_of(
                st.none(), st.tuples(st.integers(-4000, 4000), st.integers(1, 6000))
            ),
        }
    ),
    min_size=1,
    max_size=4,
)


@SEEDED
@given(drawn=records, asked=per_deployment_queries)
async def test_per_deployment_histograms_equal_the_bins_of_the_usage_records(
    running: tuple[RunningHub, list[int]], drawn: list[dict[str, Any]], asked: list[dict[str, Any]]
) -> None:
    hub_, team_ids = running
    await replace_usage(hub_, drawn, team_ids)
    async with hub_.hub.sessions() as session:
        rows = list((await session.scalars(select(UsageRecord))).all())
    for query in asked:
        await check_histograms(hub_, team_ids, rows, query)


async def check_histograms(
    hub_: RunningHub, team_ids: list[int], rows: list[UsageRecord], query: dict[str, Any]
) -> None:
    """The hub's histograms for `query` are the bins of the matching records, and each
    percentile the exact nearest-rank value's bin."""
    zone = ZoneInfo(query["zone"])
    if query["moments"] is None:
        first = query["anchor"].astimezone(zone).date() + timedelta(days=query["start_days"])
        since, until = local_days(first, first + timedelta(days=query["length_days"]), zone)
    else:
        offset, length = query["moments"]
        since = query["anchor"] + timedelta(minutes=offset, seconds=17)
        until = since + timedelta(minutes=length)
    filter_fields: dict[str, Any] = {}
    if query["filter"] is not None:
        filter_fields[query["filter"][0]] = query["filter"][1]
    if query["team"] is not None:
        filter_fields["team_id"] = team_ids[query["team"]]
    where = UsageFilter(**filter_fields)
    measure = query["measure"]
    got = await hub_.hub.usage.histograms(
        measure, since=since, until=until, zone=zone, where=where, group_by=query["group_by"]
    )
    values: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for row in rows:
        value = row.latency_ms if measure == "latency" else row.ttft_ms
        if value is not None and since <= row.created_at < until and matches(row, where):
            values[tuple(value_of(row, d, zone) for d in query["group_by"])].append(value)
    expected = {}
    for key, found in values.items():
        counts: dict[int, int] = defaultdict(int)
        for v in found:
            counts[bin_of(v)] += 1
        expected[key] = Histogram(dict(counts))
    assert got == expected, query
    for key, found in values.items():
        for fraction in (0.5, 0.95):
            exact = nearest_rank(found, fraction)
            assert got[key].percentile_bin(fraction) == bin_of(exact)


def test_a_kolkata_day_reads_six_per_deployment_hours_less_a_half_hour() -> None:
    """Kolkata's 1 March from 18:30 UTC goes to the 2nd: the six hours from 18:00 of the
    per-deployment cube moved, and its half hour 18:00-18:30 moved back, no quarter of the
    full cube read; Kathmandu's (+05:45) 18:15-24:00 is the six hours less a quarter."""
    zone = ZoneInfo("Asia/Kolkata")
    plan = plan_grouped(*local_days(date(2026, 3, 1), date(2026, 3, 2), zone), zone, "day")
    sixes, hours, halves, quarters = lean_pieces(plan.quarters)
    day_1, day_2 = at(2026, 3, 1), at(2026, 3, 2)
    feb_28, mar_1, mar_2 = at(2026, 2, 28, 18, 30), at(2026, 3, 1, 18, 30), at(2026, 3, 2, 18, 30)
    assert sixes == [
        Piece(at(2026, 2, 28, 18), day_1, add=feb_28),
        Piece(at(2026, 3, 1, 18), day_2, add=mar_1, take=day_1),
        Piece(at(2026, 3, 2, 18), at(2026, 3, 3), take=day_2, kept=False),
    ]
    assert hours == [] and quarters == []
    # Each half hour to the group the six hours took it from, and from the one they added
    # it to: the 1st's 18:00-18:30 is the 1st's (23:30 local).
    assert halves == [
        Piece(at(2026, 2, 28, 18), feb_28, take=feb_28, kept=False),
        Piece(at(2026, 3, 1, 18), mar_1, add=day_1, take=mar_1),
        Piece(at(2026, 3, 2, 18), mar_2, add=day_2),
    ]
    zone = ZoneInfo("Asia/Kathmandu")
    plan = plan_grouped(*local_days(date(2026, 3, 2), date(2026, 3, 2), zone), zone, "day")
    sixes, hours, halves, quarters = lean_pieces(plan.quarters)
    assert [(p.start, p.end) for p in sixes] == [
        (at(2026, 3, 1, 18), day_2),
        (at(2026, 3, 2, 18), at(2026, 3, 3)),
    ]
    assert hours == [] and halves == []
    assert [(p.start, p.end) for p in quarters] == [
        (at(2026, 3, 1, 18), at(2026, 3, 1, 18, 15)),
        (at(2026, 3, 2, 18), at(2026, 3, 2, 18, 15)),
    ]


def lean_pieces(pieces: list[Piece]) -> tuple[list[Piece], ...]:
    """As hub/ledger/histograms.py splits quarter pieces for the per-deployment cubes."""
    sixes, rest = rounded_spans(pieces, SIX_HOURS, timed=True)
    hours, rest = whole_hours(rest, timed=True)
    halves, quarters = whole_spans(rest, HALF_HOUR, timed=True)
    return sixes, hours, halves, quarters


async def test_the_migration_backfills_the_bins_from_existing_records(
    running: tuple[RunningHub, list[int]],
) -> None:
    hub_, team_ids = running
    drawn = [
        record(
            team=n % 2, when=anchor + timedelta(minutes=13 * n), deployment="p/big" if n else None,
            status=("ok", "error")[n % 2], latency=37 * n**3, ttft=n * 11 if n % 3 else None,
        )
        for n, anchor in enumerate([*ANCHORS, *ANCHORS])
    ]  # fmt: skip
    await replace_usage(hub_, drawn, team_ids)
    columns = [c for c in UsageRollup.__table__.c if c.name != "id"]
    measured = UsageRollup.cube.in_(("latency", "ttft", "dep_lat", "dep_ttft"))

    async def bins() -> list[tuple[Any, ...]]:
        async with hub_.hub.sessions() as session:
            found = (await session.execute(select(*columns).where(measured))).all()
        return sorted(tuple(row) for row in found)

    await hub_.hub.folder.fold()  # the staged facts in the table read below
    written = await bins()
    assert {row[0] for row in written} == {"latency", "ttft", "dep_lat", "dep_ttft"}
    migration, quarters = _migration("*_latency_histograms.py"), _migration("*_quarter_rollups.py")
    per_deployment = _migration("*_deployment_histograms.py")
    halves = _migration("*_half_hour_histograms.py")
    sixes = _migration("*_six_hour_histograms.py")
    async with hub_.hub.engine.begin() as conn:
        await conn.execute(delete(UsageRollup).where(measured))

        def run(sync_conn: Any) -> None:
            from alembic.migration import MigrationContext
            from alembic.operations import Operations

            with Operations.context(MigrationContext.configure(sync_conn)):
                migration.backfill()  # hour and day rows, then the hours as quarters
                quarters.backfill(("latency", "ttft"))
                per_deployment.backfill()  # summed from those quarters and days
                halves.backfill()  # the per-deployment half hours, from those quarters
                sixes.backfill()  # and six hours, from their hours

        await conn.run_sync(run)
    assert await bins() == written


@pytest.mark.parametrize(("name", "grain"), [("half_hour", "30m"), ("six_hour", "6h")])
async def test_the_half_and_six_hour_migrations_go_down_and_up_again(
    running: tuple[RunningHub, list[int]], name: str, grain: str
) -> None:
    """Down: the per-deployment half-hour (six-hour) rows gone, every other row as written;
    up again: each the sum of its quarters (hours), equal to what the writer wrote."""
    hub_, team_ids = running
    drawn = [
        record(when=anchor + timedelta(minutes=m), deployment=("p/big", "p/small", None)[m % 3],
               latency=40 * m + 7, ttft=m or None, status=("ok", "error")[m % 2])
        for anchor in ANCHORS
        for m in (0, 14, 15, 29, 30, 44, 59, 61, 300, 359, 360, 725)
    ]  # fmt: skip
    await replace_usage(hub_, drawn, team_ids)
    columns = [c for c in UsageRollup.__table__.c if c.name != "id"]

    async def rollups() -> list[tuple[Any, ...]]:
        async with hub_.hub.sessions() as session:
            found = (await session.execute(select(*columns))).all()
        return sorted(tuple(row) for row in found)

    await hub_.hub.folder.fold()  # the staged facts in the table read below
    written = await rollups()
    new = [r for r in written if r[1] == grain]
    assert {r[0] for r in new} == {"dep_lat", "dep_ttft"}
    requests = columns.index(UsageRollup.__table__.c.requests)
    assert sum(r[requests] for r in new if r[0] == "dep_lat") == len(drawn)
    migration = _migration(f"*_{name}_histograms.py")

    def run(step: str) -> Any:
        def step_(sync_conn: Any) -> None:
            from alembic.migration import MigrationContext
            from alembic.operations import Operations

            with Operations.context(MigrationContext.configure(sync_conn)):
                getattr(migration, step)()

        return step_

    async with hub_.hub.engine.begin() as conn:
        await conn.run_sync(run("downgrade"))
    assert await rollups() == [r for r in written if r[1] != grain]
    async with hub_.hub.engine.begin() as conn:
        await conn.run_sync(run("upgrade"))
    assert await rollups() == written
