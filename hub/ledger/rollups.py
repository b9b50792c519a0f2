"""Which rollup rows a usage record adds to, and the upsert of rows worked out in Python.

A usage record adds to its UTC quarter hour and its UTC day in every cube (hub/ledger/
cubes.py; its UTC hour in `where`), and to its latency and time-to-first-token bins (also per
deployment, UTC half hour, hour and six hours), its fail-over and its size class (the measure
cubes). Which rows, with which sums, is worked out here (`SHAPES`, `measured`, `buckets_of`;
`batch_values`: a batch's rows summed per key in Python). The settlements do not upsert them:
they stage each record's facts (hub/ledger/pg_rollups.py `facts`, its composite type on
PostgreSQL) in the record's transaction, and a fold expands staged facts into these rows on the
server and upserts them per key, deleting the facts in the same transaction (hub/ledger/
fold.py). A rollup row is therefore exactly the sum of its folded records: a rolled-back record
was never staged, and a fact leaves staging in the transaction that adds it. `add_rollups`
upserts rows built here (a rewritten record's difference, `reversal_rows` + `rollup_rows`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.ledger.cubes import (
    CUBES,
    GRAINS,
    HALF_GRAIN,
    HOUR_GRAIN,
    HOURLY_CUBES,
    MEASURE_CUBES,
    QUARTER_GRAIN,
    SIX_HOUR_GRAIN,
    size_bin,
)
from hub.ledger.latency_bins import bin_of
from hub.ledger.precompiled import Precompiled
from hub.ledger.summary_plan import (
    floor_day,
    floor_half_hour,
    floor_hour,
    floor_quarter,
    floor_six_hours,
)
from hub.ledger.usage_entry import RECORD_COLUMNS, UsageEntry
from hub.store.rollup_tables import DIMENSION_COLUMNS, ROLLUP_KEY, UsageRollup

SUM_COLUMNS = (
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_micros",
    "saved_micros",
    "latency_ms",
    "ttft_ms",
    "ttft_requests",
)
_ABSENT: dict[str, object] = {"member_id": 0, "key_id": 0, "team_id": 0}
# Sums that are a usage record's column of the same name.
_RECORD_SUMS = (
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_micros",
    "saved_micros",
    "latency_ms",
)


# A rollup row as a tuple, in one order: its key (`ROLLUP_KEY`: cube, grain, bucket, the
# dimensions, bin), then its sums. The writer builds these directly (no dict per row) and
# hands them to the driver in the statement's own parameter order (`add_rollups`).
ROW_COLUMNS = (*ROLLUP_KEY, *SUM_COLUMNS)
ABSENTS = tuple(_ABSENT.get(name, "") for name in DIMENSION_COLUMNS)


def sql_literal(value: object) -> str:
    """An int or a text as an SQL literal (the absent dimensions, the cube and grain names
    the rollup statements write in)."""
    if isinstance(value, int):
        return str(value)
    assert isinstance(value, str)
    return "'" + value.replace("'", "''") + "'"


_DEPLOYMENT = DIMENSION_COLUMNS.index("deployment")


def _shapes() -> tuple[tuple[str, tuple[str, ...], tuple[int, ...], str], ...]:
    """Per cube, in order: its name, grains, the positions of the dimensions it keeps, and
    which bin it keys by ("" for none: bin 0)."""
    shapes: list[tuple[str, tuple[str, ...], frozenset[str], str]] = [
        (cube, (*GRAINS, HOUR_GRAIN) if cube in HOURLY_CUBES else GRAINS, kept, "")
        for cube, kept in CUBES.items()
    ]
    shapes += [(name, c.grains, c.dimensions, c.measure or name)
               for name, c in MEASURE_CUBES.items()]  # fmt: skip
    return tuple(
        (cube, grains, tuple(i for i, name in enumerate(DIMENSION_COLUMNS) if name in kept), bin_)
        for cube, grains, kept, bin_ in shapes
    )


SHAPES = _shapes()

# The same shapes as the writer walks them, worked out once: each cube's kept dimensions as
# one C-level pick from (the record's dimensions, the absent values, the first deployment),
# its bin as a position in `_bins`' tuple, and per grain its position in `buckets_of`'.
BIN_SLOTS = ("", "latency", "ttft", "failover", "size")
GRAIN_SLOTS = (QUARTER_GRAIN, HALF_GRAIN, HOUR_GRAIN, SIX_HOUR_GRAIN, "day")
_FIRST = 2 * len(DIMENSION_COLUMNS)  # where the pick finds the first deployment
_Pick = Callable[[tuple[object, ...]], tuple[object, ...]]


_Prefixes = tuple[tuple[str, str, int], ...]  # (cube, grain, its slot in `GRAIN_SLOTS`)
# Per cube: its prefixes, its pick, its slot in `BIN_SLOTS`, and the pick's positions in
# (dimensions, absent values, first deployment).
_Step = tuple[_Prefixes, _Pick, int, tuple[int, ...]]


def _plan() -> tuple[_Step, ...]:
    width = len(DIMENSION_COLUMNS)
    plan: list[_Step] = []
    for cube, grains, kept, measure in SHAPES:
        positions = [i if i in kept else width + i for i in range(width)]
        if cube == "failover":
            positions[_DEPLOYMENT] = _FIRST  # the deployment tried first (`_values`)
        pick = cast(_Pick, operator.itemgetter(*positions))
        prefixes = tuple((cube, grain, GRAIN_SLOTS.index(grain)) for grain in grains)
        plan.append((prefixes, pick, BIN_SLOTS.index(measure), tuple(positions)))
    return tuple(plan)


_PLAN = _plan()
# What the rollups read of a usage record, in one C call: by column name from a mapping
# (`UsageEntry.row_values`, a stored row), or by position from `UsageEntry.row_tuple`'s
# tuple (`RECORD_COLUMNS` order: the SQLite writer's records, no dict per record).
_FIELDS = (
    *DIMENSION_COLUMNS,
    *_RECORD_SUMS,
    "ttft_ms",
    "deployment",
    "first_deployment",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "created_at",
)
Fields = Callable[[Any], tuple[Any, ...]]
BY_NAME: Fields = operator.itemgetter(*_FIELDS)
BY_POSITION: Fields = operator.itemgetter(*(RECORD_COLUMNS.index(name) for name in _FIELDS))
_WIDTH = len(DIMENSION_COLUMNS)
_SUMS_END = _WIDTH + len(_RECORD_SUMS)
Convert = Callable[[Any], Any] | None


def rollup_rows(entry: UsageEntry, now: datetime) -> list[dict[str, object]]:
    """The rollup rows one usage record adds to: its quarter hour and day in every cube."""
    return [dict(zip(ROW_COLUMNS, key + amounts, strict=True))
            for key, amounts in _one(entry.row_values(now), sign=1)]  # fmt: skip


def reversal_rows(record: Mapping[str, Any]) -> list[dict[str, object]]:
    """What takes a stored record (its row, by column name) back out of its rollup rows
    (before it is rewritten)."""
    return [dict(zip(ROW_COLUMNS, key + amounts, strict=True))
            for key, amounts in _one(record, sign=-1)]  # fmt: skip


# What decides a record's rollup keys but its bins: its dimensions, the deployment tried
# first, its quarter hour (every other bucket is one of the quarter's). Records of a batch
# that share it (a team's traffic through one key and model) share every key of the cubes
# without a bin, and of a measure cube those with the same bin.
_Identity = tuple[tuple[object, ...], object, datetime]
_Amounts = tuple[int, ...]


def batch_values(
    records: Sequence[Mapping[str, Any]], convert_bucket: Convert = None
) -> list[tuple[object, ...]]:
    """The rollup rows of usage records (`UsageEntry.row_values`, or stored rows), as tuples
    in `ROW_COLUMNS` order, rows with the same key summed into one (PostgreSQL refuses to
    update a row twice in one statement; the Python reading of what the fold's SQL does,
    tests/hub/ledger/test_pg_rollups.py). `convert_bucket`: the
    upsert's bind processor for `bucket`, applied here once per distinct bucket, so the rows
    are already in the driver's form.

    The records' sums are added per identity and bin first (a few additions per record),
    and each identity's keys built once from those totals, rather than twenty-four rows per
    record built and then summed by key."""
    if len(records) == 1:  # one record's rows have distinct keys: nothing to merge
        return [key + amounts for key, amounts in _one(records[0], sign=1, convert=convert_bucket)]
    expanded = [_expand(identity, slots, convert_bucket) for identity, slots in grouped(records)]
    if len(expanded) == 1:  # one identity's keys are distinct (cube, bin)
        return [key + amounts for key, amounts in expanded[0]]
    merged: dict[tuple[object, ...], _Amounts] = {}
    add = operator.add
    for rows in expanded:  # identities share the keys of the dimensions a cube drops
        for key, amounts in rows:
            into = merged.get(key)
            merged[key] = amounts if into is None else tuple(map(add, into, amounts))
    return [key + amounts for key, amounts in merged.items()]


def grouped(
    records: Sequence[Any], fields: Fields = BY_NAME
) -> list[tuple[_Identity, list[dict[int, _Amounts]]]]:
    """The records' identities, each with its sums per bin of each of `BIN_SLOTS` (records
    of one identity and bin added up)."""
    groups: dict[_Identity, list[dict[int, list[_Amounts]]]] = {}
    for record in records:
        identity, bins, amounts = measured(record, sign=1, fields=fields)
        slots = groups.get(identity)
        if slots is None:
            slots = groups[identity] = [{} for _ in BIN_SLOTS]
        for by_bin, bin_ in zip(slots, bins, strict=True):
            if bin_ is not None:
                by_bin.setdefault(bin_, []).append(amounts)
    return [
        (identity, [{bin_: _summed(parts) for bin_, parts in by_bin.items()} for by_bin in slots])
        for identity, slots in groups.items()
    ]


def _summed(parts: list[_Amounts]) -> _Amounts:
    return parts[0] if len(parts) == 1 else tuple(map(sum, zip(*parts, strict=True)))


_BUCKETS: dict[tuple[datetime, Convert], tuple[object, ...]] = {}


def buckets_of(quarter: datetime, convert: Convert) -> tuple[object, ...]:
    """A quarter hour's buckets in `GRAIN_SLOTS` order (converted). Every grain is whole UTC
    quarter hours, so a moment's floor at each is that of its quarter: worked out once per
    quarter (and conversion)."""
    known = _BUCKETS.get((quarter, convert))
    if known is None:
        floors: tuple[object, ...] = (quarter, floor_half_hour(quarter), floor_hour(quarter),
                                      floor_six_hours(quarter), floor_day(quarter))  # fmt: skip
        if convert is not None:
            floors = tuple(convert(floor) for floor in floors)
        if len(_BUCKETS) >= 1024:  # a replay of old records: bounded
            _BUCKETS.clear()
        known = _BUCKETS[(quarter, convert)] = floors
    return known


def measured(
    record: Any, *, sign: int, fields: Fields = BY_NAME
) -> tuple[_Identity, tuple[int | None, ...], _Amounts]:
    """A usage record's identity, its bin in each of `BIN_SLOTS` (None: no such measure:
    no first token, no deployment) and the sums each of its rows adds (`SUM_COLUMNS`).
    `fields`: how the record is read (`BY_NAME`, `BY_POSITION`)."""
    values = fields(record)
    dimensions: tuple[object, ...] = values[:_WIDTH]
    if None in dimensions:
        dimensions = tuple(absent if value is None else value
                           for value, absent in zip(dimensions, ABSENTS, strict=True))  # fmt: skip
    ttft, deployment, first, latency, prompt, completion, created_at = values[_SUMS_END:]
    amounts = (
        1, *[value or 0 for value in values[_WIDTH:_SUMS_END]], ttft or 0, 0 if ttft is None else 1
    )  # fmt: skip
    if sign != 1:
        amounts = tuple(sign * value for value in amounts)
    first = first or deployment
    bins = (
        0,
        bin_of(latency or 0),
        None if ttft is None else bin_of(ttft),
        None if not first else int(first != deployment),
        size_bin(prompt or 0, completion or 0),
    )
    return (dimensions, first, floor_quarter(created_at)), bins, amounts


def _one(
    record: Mapping[str, Any], *, sign: int, convert: Convert = None
) -> list[tuple[tuple[object, ...], _Amounts]]:
    identity, bins, amounts = measured(record, sign=sign)
    return _expand(identity, [{} if b is None else {b: amounts} for b in bins], convert)


def _expand(
    identity: _Identity, slots: Sequence[Mapping[int, _Amounts]], convert: Convert
) -> list[tuple[tuple[object, ...], _Amounts]]:
    """An identity's rollup rows: each key (`ROLLUP_KEY` order) with its sums, from the sums
    per bin of each of `BIN_SLOTS`."""
    dimensions, first, quarter = identity
    buckets = buckets_of(quarter, convert)
    source = (*dimensions, *ABSENTS, first)
    rows: list[tuple[tuple[object, ...], _Amounts]] = []
    for prefixes, pick, slot, _ in _PLAN:
        by_bin = slots[slot]
        if not by_bin:
            continue
        picked = pick(source)
        for bin_, amounts in by_bin.items():
            rows += [((cube, grain, buckets[at], *picked, bin_), amounts)
                     for cube, grain, at in prefixes]  # fmt: skip
    return rows


def _upsert(dialect_insert: Any) -> Any:
    """`INSERT … ON CONFLICT (key) DO UPDATE SET sums = sums + excluded`, built once: executed
    with the record's rows as parameters (an executemany), it is compiled once per process."""
    upsert = dialect_insert(UsageRollup)
    table = UsageRollup.__table__.c
    return upsert.on_conflict_do_update(
        index_elements=list(ROLLUP_KEY),
        set_={name: table[name] + upsert.excluded[name] for name in SUM_COLUMNS},
    )


_UPSERTS = {
    "postgresql": Precompiled(_upsert(pg_insert)),
    "sqlite": Precompiled(_upsert(sqlite_insert)),
}


_KEY_OF = operator.itemgetter(*ROLLUP_KEY)


def merged_rows(rows: Iterable[dict[str, object]]) -> list[dict[str, object]]:
    """Rows with the same key summed into one: a batch of records upserts each rollup row
    once (PostgreSQL refuses to update a row twice in one statement)."""
    merged: dict[tuple[object, ...], dict[str, object]] = {}
    for row in rows:
        key = _KEY_OF(row)
        into = merged.get(key)
        if into is None:
            merged[key] = dict(row)
            continue
        for name in SUM_COLUMNS:
            into[name] = into[name] + row[name]  # type: ignore[operator]
    return list(merged.values())


def add_rollups(conn: Connection, rows: list[dict[str, object]]) -> None:
    """Add rollup rows (`rollup_rows`, `reversal_rows`), inside the connection's transaction."""
    if rows:
        _UPSERTS["postgresql" if conn.dialect.name == "postgresql" else "sqlite"].many(conn, rows)
