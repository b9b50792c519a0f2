"""The rollups answer every report exactly as `SUM` over `usage_records` would: random
usage across month, day and DST boundaries, random filters, group-by and timezones (whole-hour,
half-hour and 45-minute offsets), to the micro-dollar; and the migration's backfill builds
the same rollups from existing records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from hub.ledger.reports import STATUSES
from hub.ledger.summary import DIMENSIONS, Dimension, UsageFilter
from hub.ledger.summary_plan import (
    GroupedPlan,
    Piece,
    Plan,
    local_days,
    plan_grouped,
    plan_range,
    whole_hours,
)
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_totals import UsageTotals
from hub.ledger.usage_writer import record_usage, rewrite_usage
from hub.model import Caller, Origin, Usage
from hub.store.ledger_tables import UsageRecord
from hub.store.rollup_tables import UsageRollup, UsageRollupStaged
from tests.support.hubs import RunningHub, start_hub

ANCHORS = (  # month ends, DST changes in the US, EU, Australia (Lord Howe: 30 minutes)
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 4, 5, 15, tzinfo=UTC),
    datetime(2026, 10, 31, 23, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
)
ZONES = (
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
)
FILTERS = {  # UsageFilter field → values records take
    "member_id": (1, 2),
    "key_id": (1, 2),
    "user": ("U1", "U2"),
    "model": ("big", "small"),
    "deployment": ("p/big", "p/small"),
    "connector": ("slack", "discord", "openai_api"),
    "slack_workspace": ("W1", "W2"),
    "slack_channel": ("C1", "C2"),
    "discord_guild": ("W1", "W2"),
    "discord_channel": ("C1", "C2"),
    "status": STATUSES,
}
SEEDED = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

records = st.lists(
    st.fixed_dictionaries(
        {
            "team": st.integers(0, 1),
            "when": st.builds(
                lambda anchor, minutes: anchor + timedelta(minutes=minutes),
                st.sampled_from(ANCHORS),
                st.integers(-3 * 24 * 60, 3 * 24 * 60),
            ),
            "member": st.sampled_from((None, 1, 2)),
            "key": st.sampled_from((None, 1, 2)),
            "user": st.sampled_from((None, "U1", "U2")),
            "connector": st.sampled_from(("slack", "discord", "openai_api")),
            "workspace": st.sampled_from((None, "W1", "W2")),
            "channel": st.sampled_from((None, "C1", "C2")),
            "alias": st.sampled_from(("big", "small")),
            "deployment": st.sampled_from((None, "p/big", "p/small")),
            "status": st.sampled_from(STATUSES),
            "prompt": st.integers(0, 200_000),
            "completion": st.integers(0, 50_000),
            "cost": st.integers(0, 5_000_000_000),
            "latency": st.integers(0, 60_000),
            "ttft": st.one_of(st.none(), st.integers(0, 10_000)),
        }
    ),
    max_size=30,
)
queries = st.lists(
    st.fixed_dictionaries(
        {
            "zone": st.sampled_from(ZONES),
            "anchor": st.sampled_from(ANCHORS),
            "start_days": st.integers(-3, 2),
            "length_days": st.integers(0, 4),
            "group_by": st.lists(st.sampled_from(DIMENSIONS), max_size=2, unique=True),
            "filter": st.one_of(
                st.none(),
                st.sampled_from(sorted(FILTERS)).flatmap(
                    lambda name: st.tuples(st.just(name), st.sampled_from(FILTERS[name]))
                ),
            ),
            "team": st.sampled_from((None, 0, 1)),
            # An admin API window: arbitrary moments rather than local days.
            "moments": st.one_of(
                st.none(), st.tuples(st.integers(-4000, 4000), st.integers(1, 6000))
            ),
        }
    ),
    min_size=1,
    max_size=4,
)


@pytest.fixture
async def running(database_url: str) -> AsyncIterator[tuple[RunningHub, list[int]]]:
    running = await start_hub({}, database_url=database_url, team="one")
    other = await running.hub.teams.create("two")
    try:
        yield running, [running.team.id, other.id]
    finally:
        await running.hub.close()


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def record(**fields_: Any) -> dict[str, Any]:
    """A drawn record with plain defaults for what a test does not care about."""
    base = {"team": 0, "member": None, "key": None, "user": None, "connector": "openai_api",
            "workspace": None, "channel": None, "alias": "big", "deployment": None,
            "status": "ok", "prompt": 10, "completion": 5, "cost": 0, "latency": 100,
            "ttft": None}  # fmt: skip
    return base | fields_


def entry(n: int, record: dict[str, Any], team_ids: list[int]) -> UsageEntry:
    return UsageEntry(
        request_id=f"r{n}",
        caller=Caller(
            team_ids[record["team"]], "t", key_id=record["key"], member_id=record["member"]
        ),
        origin=Origin(
            record["connector"],
            user=record["user"],
            channel=record["channel"],
            workspace=record["workspace"],
        ),
        alias=record["alias"],
        deployment=record["deployment"],
        usage=Usage(prompt_tokens=record["prompt"], completion_tokens=record["completion"]),
        cost_micros=record["cost"],
        latency_ms=record["latency"],
        ttft_ms=record["ttft"],
        status=record["status"],
        first_deployment=record.get("first"),
    )


def value_of(row: UsageRecord, dimension: Dimension, zone: ZoneInfo) -> Any:
    """A record's group value, straight from its columns (the definition the rollups meet)."""
    local = row.created_at.astimezone(zone)
    placed = {
        "slack_workspace": ("slack", row.workspace),
        "slack_channel": ("slack", row.channel),
        "discord_guild": ("discord", row.workspace),
        "discord_channel": ("discord", row.channel),
    }
    if dimension in placed:
        connector, value = placed[dimension]
        return value if row.connector == connector else None
    return {
        "team": row.team_id,
        "member": row.member_id,
        "key": row.key_id,
        "user": f"{row.connector}:{row.user}" if row.user else None,
        "model": row.alias,
        "deployment": row.deployment,
        "connector": row.connector,
        "status": row.status,
        "day": local.date().isoformat(),
        "hour": local.replace(minute=0, second=0, microsecond=0).isoformat(),
    }[dimension]


def matches(row: UsageRecord, where: UsageFilter) -> bool:
    for name in ("member_id", "key_id", "user", "deployment", "connector", "status"):
        wanted = getattr(where, name)
        if wanted is not None and getattr(row, name) != wanted:
            return False
    placed = {
        "slack_workspace": ("slack", row.workspace),
        "slack_channel": ("slack", row.channel),
        "discord_guild": ("discord", row.workspace),
        "discord_channel": ("discord", row.channel),
    }
    for name, (connector, value) in placed.items():
        wanted = getattr(where, name)
        if wanted is not None and (row.connector != connector or value != wanted):
            return False
    if where.model is not None and row.alias != where.model:
        return False
    return where.team_id is None or row.team_id == where.team_id


def totals_of(rows: list[UsageRecord]) -> UsageTotals:
    return UsageTotals(
        requests=len(rows),
        prompt_tokens=sum(r.prompt_tokens for r in rows),
        completion_tokens=sum(r.completion_tokens for r in rows),
        cost_micros=sum(r.cost_micros for r in rows),
        cached_requests=sum(r.status == "cached" for r in rows),
        saved_micros=sum(r.saved_micros for r in rows),
        cached_tokens=sum(r.cached_tokens for r in rows),
        reasoning_tokens=sum(r.reasoning_tokens for r in rows),
        cache_write_tokens=sum(r.cache_write_tokens for r in rows),
        errors=sum(r.status in ("error", "partial", "interrupted") for r in rows),
        latency_ms=sum(r.latency_ms for r in rows),
        ttft_ms=sum(r.ttft_ms or 0 for r in rows),
        ttft_requests=sum(r.ttft_ms is not None for r in rows),
    )


async def replace_usage(
    running: RunningHub, drawn: list[dict[str, Any]], team_ids: list[int]
) -> None:
    async with running.hub.sessions.begin() as session:
        await session.execute(delete(UsageRollup))
        await session.execute(delete(UsageRollupStaged))
        await session.execute(delete(UsageRecord))
        for n, record in enumerate(drawn):
            await record_usage(session, entry(n, record, team_ids), now=record["when"])


@SEEDED
@given(drawn=records, asked=queries)
async def test_rollups_equal_the_sum_over_usage_records(
    running: tuple[RunningHub, list[int]], drawn: list[dict[str, Any]], asked: list[dict[str, Any]]
) -> None:
    hub_, team_ids = running
    await replace_usage(hub_, drawn, team_ids)
    async with hub_.hub.sessions() as session:
        rows = list((await session.scalars(select(UsageRecord))).all())
    for query in asked:
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
        group_by: list[Dimension] = query["group_by"]
        summary = await hub_.hub.usage.summary(
            since=since, until=until, zone=zone, where=where, group_by=group_by
        )
        expected: dict[tuple[Any, ...], list[UsageRecord]] = defaultdict(list)
        for row in rows:
            if since <= row.created_at < until and matches(row, where):
                expected[tuple(value_of(row, d, zone) for d in group_by)].append(row)
        got = {row.group: row.totals for row in summary.rows}
        assert got == {key: totals_of(group) for key, group in expected.items()}, query
        assert summary.total == totals_of([r for g in expected.values() for r in g])


async def test_day_groups_in_a_half_hour_zone_read_no_records(
    running: tuple[RunningHub, list[int]],
) -> None:
    """Asia/Kolkata's local midnight is 18:30 UTC: the UTC day of 1 March is counted on the 1st
    and its quarters from 18:30 are moved to the 2nd; a record at 18:29 and one at 18:30 land
    on different days, and no record is read (every piece is whole quarter hours)."""
    hub_, team_ids = running
    moments = [at(2026, 3, 1, 18, 29), at(2026, 3, 1, 18, 30), at(2026, 3, 2, 3)]
    drawn = [record(when=when, cost=1_000 * (i + 1)) for i, when in enumerate(moments)]
    await replace_usage(hub_, drawn, team_ids)
    zone = ZoneInfo("Asia/Kolkata")
    since, until = local_days(date(2026, 3, 1), date(2026, 3, 2), zone)
    summary = await hub_.hub.usage.summary(since=since, until=until, zone=zone, group_by=["day"])
    assert [(r.group, r.totals.cost_micros) for r in summary.rows] == [
        (("2026-03-01",), 1_000),
        (("2026-03-02",), 5_000),
    ]
    # The 2nd's day bucket too (most of it is in range), its quarters past the range taken.
    assert plan_grouped(since, until, zone, "day") == GroupedPlan(
        days=[Piece(at(2026, 3, 1), at(2026, 3, 2), add=at(2026, 3, 1)),
              Piece(at(2026, 3, 2), at(2026, 3, 3), add=at(2026, 3, 2))],
        quarters=[
            Piece(at(2026, 2, 28, 18, 30), at(2026, 3, 1), add=at(2026, 2, 28, 18, 30)),
            Piece(at(2026, 3, 1, 18, 30), at(2026, 3, 2), add=at(2026, 3, 1, 18, 30),
                  take=at(2026, 3, 1)),
            Piece(at(2026, 3, 2, 18, 30), at(2026, 3, 3), take=at(2026, 3, 2), kept=False),
        ],
    )  # fmt: skip


def test_a_half_hour_zones_moved_quarters_are_read_as_whole_hours_where_they_can_be() -> None:
    """Kolkata's 1 March from 18:30 UTC goes to the 2nd: five UTC hour buckets (a cube that
    keeps hours) and the two quarters before 19:00, each part moved as the whole was."""
    zone = ZoneInfo("Asia/Kolkata")
    plan = plan_grouped(*local_days(date(2026, 3, 1), date(2026, 3, 2), zone), zone, "day")
    hours, quarters = whole_hours(plan.quarters, timed=True)
    moved = {"add": at(2026, 3, 1, 18, 30), "take": at(2026, 3, 1)}
    assert hours == [
        Piece(at(2026, 2, 28, 19), at(2026, 3, 1), add=at(2026, 2, 28, 18, 30)),
        Piece(at(2026, 3, 1, 19), at(2026, 3, 2), **moved),
        Piece(at(2026, 3, 2, 19), at(2026, 3, 3), take=at(2026, 3, 2), kept=False),
    ]
    assert quarters == [
        Piece(at(2026, 2, 28, 18, 30), at(2026, 2, 28, 19), add=at(2026, 2, 28, 18, 30)),
        Piece(at(2026, 3, 1, 18, 30), at(2026, 3, 1, 19), **moved),
        Piece(at(2026, 3, 2, 18, 30), at(2026, 3, 2, 19), take=at(2026, 3, 2), kept=False),
    ]


def test_a_local_hour_in_a_45_minute_zone_is_four_quarter_buckets() -> None:
    """Kathmandu (+05:45): each local hour is one range of quarter buckets, none of records;
    an admin API window's partial quarters at its ends are the only records read."""
    zone = ZoneInfo("Asia/Kathmandu")
    since, until = at(2026, 3, 1, 0, 15), at(2026, 3, 1, 2, 15)
    assert plan_grouped(since, until, zone, "hour") == GroupedPlan(
        quarters=[Piece(at(2026, 3, 1, 0, 15), at(2026, 3, 1, 1, 15), add=at(2026, 3, 1, 0, 15)),
                  Piece(at(2026, 3, 1, 1, 15), at(2026, 3, 1, 2, 15), add=at(2026, 3, 1, 1, 15))]
    )  # fmt: skip
    moments = at(2026, 3, 1, 0, 20, 5), at(2026, 3, 1, 0, 50)
    assert plan_range(*moments) == Plan(
        quarters=[(at(2026, 3, 1, 0, 30), at(2026, 3, 1, 0, 45))],
        raw=[(moments[0], at(2026, 3, 1, 0, 30)), (at(2026, 3, 1, 0, 45), moments[1])],
    )


def test_a_utc_month_is_read_from_day_buckets_and_a_new_york_month_by_days_from_quarters() -> None:
    since, until = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    assert plan_range(since, until) == Plan(days=[(since, until)])
    days = [since + n * timedelta(days=1) for n in range(31)]
    assert plan_grouped(since, until, UTC, "day") == GroupedPlan(
        days=[Piece(day, day + timedelta(days=1), add=day) for day in days[:30]]
    )
    new_york = ZoneInfo("America/New_York")
    local = local_days(date(2026, 11, 1), date(2026, 11, 30), new_york)  # DST ends on the 1st
    # Each UTC day counted on its local day (from 05:00 UTC; 04:00 on the 1st), the five
    # hours before moved to the day before (from quarter buckets); the first day's four hours
    # before the range taken out; the end from quarter buckets.
    five = timedelta(hours=5)
    four = timedelta(hours=4)
    assert plan_grouped(*local, new_york, "day") == GroupedPlan(
        days=[Piece(since, days[1], add=since + four),
              *(Piece(day, day + timedelta(days=1), add=day + five) for day in days[1:30])],
        quarters=[
            Piece(since, since + four, take=since + four, kept=False),
            *(Piece(day, day + five, add=day, take=day + five) for day in days[1:30]),
            Piece(until, local[1], add=until),
        ],
    )  # fmt: skip
    assert plan_range(*local) == Plan(
        days=[(since, until)], quarters=[(until, local[1])], taken=[(since, local[0])]
    )


def test_a_range_of_less_than_a_day_reads_no_day_bucket() -> None:
    since, until = at(2026, 3, 1, 10), at(2026, 3, 1, 23)
    assert plan_range(since, until) == Plan(quarters=[(since, until)])


async def test_the_migration_backfills_the_rollups_from_existing_records(
    running: tuple[RunningHub, list[int]],
) -> None:
    hub_, team_ids = running
    drawn: list[dict[str, Any]] = []
    for n, anchor in enumerate(ANCHORS):
        drawn.append(
            record(
                team=n % 2,
                when=anchor + timedelta(minutes=7 * n),
                member=n % 3 or None,
                user="U1" if n % 2 else None,
                connector="slack",
                workspace="W1",
                deployment="p/big",
                status=STATUSES[n % len(STATUSES)],
                prompt=100 * n,
                completion=n,
                cost=123_456 * n,
                ttft=n if n % 2 else None,
                first=("p/small", "p/big", None)[n % 3],
            )
        )
        drawn.append(drawn[-1] | {"when": anchor + timedelta(minutes=59)})
    await replace_usage(hub_, drawn, team_ids)
    await hub_.hub.folder.fold()  # the staged facts in the table read below
    columns = [c for c in UsageRollup.__table__.c if c.name != "id"]

    async def rollups() -> list[tuple[Any, ...]]:
        async with hub_.hub.sessions() as session:
            found = (await session.execute(select(*columns))).all()
        return sorted(tuple(row) for row in found)

    written = await rollups()
    assert 0 < len(written) < 20 * len(drawn)  # records of one bucket and cube share a row
    # The rollups' migration, then the latency bins', the suggestion measures', the quarter
    # hours', the per-deployment bins', the `where` cube's hours and the per-deployment half
    # hours and six hours.
    migrations = [_migration(f"*_{name}.py") for name in
                  ("usage_rollups", "latency_histograms", "suggestion_measures",
                   "quarter_rollups", "deployment_histograms", "where_hours",
                   "half_hour_histograms", "six_hour_histograms")]  # fmt: skip
    async with hub_.hub.engine.begin() as conn:
        await conn.execute(delete(UsageRollup))

        def run(sync_conn: Any) -> None:
            from alembic.migration import MigrationContext
            from alembic.operations import Operations

            with Operations.context(MigrationContext.configure(sync_conn)):
                for migration in migrations:
                    migration.backfill()

        await conn.run_sync(run)
    assert await rollups() == written


async def test_the_quarter_hour_migration_goes_down_to_hours_and_up_again(
    running: tuple[RunningHub, list[int]],
) -> None:
    """Down: each hour row the sum of its quarters (as the hour grain was written); up again:
    the quarter rows rebuilt from the records, equal to what the writer wrote."""
    hub_, team_ids = running
    drawn = [
        record(
            when=anchor + timedelta(minutes=m),
            member=1 + m % 2,
            status=status,
            cost=1_000 + m,
            ttft=m or None,
            deployment="p/big",
            first="p/small",
        )
        for anchor in ANCHORS
        for m in (0, 14, 15, 59)
        for status in ("ok", "error")
    ]
    await replace_usage(hub_, drawn, team_ids)  # fmt: skip
    await hub_.hub.folder.fold()  # the staged facts in the table read below
    columns = [c for c in UsageRollup.__table__.c if c.name != "id"]

    async def rollups() -> list[tuple[Any, ...]]:
        async with hub_.hub.sessions() as session:
            found = (await session.execute(select(*columns))).all()
        return sorted(tuple(row) for row in found)

    written = await rollups()
    # The migrations after it (per-deployment bins, the `where` cube's hours, the
    # per-deployment half hours and six hours) go down first and up last.
    migration = _migration("*_quarter_rollups.py")
    later = [_migration(f"*_{name}.py") for name in
             ("deployment_histograms", "where_hours", "half_hour_histograms",
              "six_hour_histograms")]  # fmt: skip

    def run(step: str, migration: Any = migration) -> Any:
        def step_(sync_conn: Any) -> None:
            from alembic.migration import MigrationContext
            from alembic.operations import Operations

            with Operations.context(MigrationContext.configure(sync_conn)):
                getattr(migration, step)()

        return step_

    async with hub_.hub.engine.begin() as conn:
        for step in reversed(later):
            await conn.run_sync(run("downgrade", step))
        await conn.run_sync(run("downgrade"))
    hours = await rollups()
    assert {row[1] for row in hours} == {"hour", "day"}
    by_hour = [r for r in hours if r[0] == "model" and r[1] == "hour"]
    assert sum(r[columns.index(UsageRollup.__table__.c.requests)] for r in by_hour) == len(drawn)
    # One hour row per hour, deployment and status: the quarters 0, 14, 15 (and 59) summed.
    assert (
        len(by_hour)
        == len(
            {
                (anchor + timedelta(minutes=m)).replace(minute=0)
                for anchor in ANCHORS
                for m in (0, 14, 15, 59)
            }
        )
        * 2
    )
    async with hub_.hub.engine.begin() as conn:
        await conn.run_sync(run("upgrade"))
        for step in later:
            await conn.run_sync(run("upgrade", step))
    assert await rollups() == written


def _migration(pattern: str) -> Any:
    import importlib.util
    from pathlib import Path

    import hub.store

    (path,) = (Path(hub.store.__file__).parent / "migrations" / "versions").glob(pattern)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_totals_add_field_by_field() -> None:
    one = UsageTotals(*range(1, len(fields(UsageTotals)) + 1))
    assert one + one == UsageTotals(*(2 * n for n in range(1, len(fields(UsageTotals)) + 1)))


async def test_a_rewritten_record_moves_its_rollups_by_the_difference(
    running: tuple[RunningHub, list[int]],
) -> None:
    """A late settle replaces a recovered `interrupted` estimate with the provider's figures
    (another deployment, status and cost): the reports follow the record, nothing twice."""
    hub_, team_ids = running
    when = at(2026, 5, 1, 10, 15)
    estimate = record(when=when, status="interrupted", deployment="p/big", cost=900, ttft=None)
    await replace_usage(hub_, [estimate], team_ids)
    async with hub_.hub.sessions.begin() as session:
        usage_id = await session.scalar(select(UsageRecord.id))
        assert usage_id is not None
        final = record(when=when, status="ok", deployment="p/small", cost=250, ttft=40)
        await rewrite_usage(session, usage_id, entry(0, final, team_ids), created_at=when)
    summary = await hub_.hub.usage.summary(
        since=at(2026, 5, 1), until=at(2026, 5, 2), group_by=["deployment", "status"]
    )
    assert [(r.group, r.totals.requests, r.totals.cost_micros) for r in summary.rows] == [
        (("p/small", "ok"), 1, 250)
    ]
    assert summary.total.ttft_requests == 1 and summary.total.errors == 0
