"""Keeping the usage rollups: one upsert statement per usage record, in its transaction.

`write_usage` (the one writer of usage records) calls `add_rollups`, which adds the record
to its UTC quarter hour and its UTC day in every cube (hub/ledger/cubes.py; its UTC hour in
`where`), and in its latency and time-to-first-token bins (also per deployment, UTC half
hour, hour and six hours), its fail-over and its size class (the measure cubes), with one
precompiled `INSERT … ON CONFLICT DO UPDATE` executed for the (up to twenty-four) rows (a batch of
records: their rows summed by key first, `merged_rows`). A rollup row is therefore exactly
the sum of its records: a rolled-back record was never added, and no job can count a record
twice.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
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
from hub.ledger.usage_entry import UsageEntry
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
KEY_LENGTH = len(ROLLUP_KEY)
_ABSENTS = tuple(_ABSENT.get(name, "") for name in DIMENSION_COLUMNS)
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


_SHAPES = _shapes()


def rollup_rows(entry: UsageEntry, now: datetime) -> list[dict[str, object]]:
    """The rollup rows one usage record adds to: its quarter hour and day in every cube."""
    return [dict(zip(ROW_COLUMNS, row, strict=True)) for row in rollup_values(entry, now)]


def reversal_rows(record: Mapping[str, Any]) -> list[dict[str, object]]:
    """What takes a stored record (its row, by column name) back out of its rollup rows
    (before it is rewritten)."""
    return [dict(zip(ROW_COLUMNS, row, strict=True)) for row in _values(record, sign=-1)]


def rollup_values(entry: UsageEntry, now: datetime) -> list[tuple[object, ...]]:
    """`rollup_rows` as tuples in `ROW_COLUMNS` order: what the writer upserts."""
    return _values(entry.row_values(now), sign=1)


def _values(record: Mapping[str, Any], *, sign: int) -> list[tuple[object, ...]]:
    """A usage record's values (`UsageEntry.row_values`, or a stored row) as rollup rows."""
    moment: datetime = record["created_at"]
    dimensions = tuple(
        absent if record[name] is None else record[name]
        for name, absent in zip(DIMENSION_COLUMNS, _ABSENTS, strict=True)
    )
    ttft = record["ttft_ms"]
    amounts = (
        sign,
        *[sign * (record[name] or 0) for name in _RECORD_SUMS],
        sign * (ttft or 0),
        0 if ttft is None else sign,
    )
    first = record.get("first_deployment") or record["deployment"]
    bins: dict[str, int | None] = {
        "": 0,
        "latency": bin_of(record["latency_ms"] or 0),
        "ttft": None if ttft is None else bin_of(ttft),
        "failover": None if not first else int(first != record["deployment"]),
        "size": size_bin(record["prompt_tokens"] or 0, record["completion_tokens"] or 0),
    }
    buckets = {QUARTER_GRAIN: floor_quarter(moment), HALF_GRAIN: floor_half_hour(moment),
               HOUR_GRAIN: floor_hour(moment), SIX_HOUR_GRAIN: floor_six_hours(moment),
               "day": floor_day(moment)}  # fmt: skip
    rows: list[tuple[object, ...]] = []
    for cube, grains, kept, measure in _SHAPES:
        bin_ = bins[measure]
        if bin_ is None:
            continue  # no such measure for this record (no first token, no deployment)
        kept_dimensions = list(_ABSENTS)
        for index in kept:
            kept_dimensions[index] = dimensions[index]
        if cube == "failover":
            kept_dimensions[_DEPLOYMENT] = first
        for grain in grains:
            rows.append((cube, grain, buckets[grain], *kept_dimensions, bin_, *amounts))
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
            into[name] = cast(int, into[name]) + cast(int, row[name])
    return list(merged.values())


def merged_values(rows: Iterable[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """`merged_rows` for rows as tuples (`rollup_values`)."""
    merged: dict[tuple[object, ...], list[object]] = {}
    for row in rows:
        key = row[:KEY_LENGTH]
        into = merged.get(key)
        if into is None:
            merged[key] = list(row)
            continue
        for index in range(KEY_LENGTH, len(row)):
            into[index] = cast(int, into[index]) + cast(int, row[index])
    return [tuple(row) for row in merged.values()]


def add_rollups(conn: Connection, rows: list[dict[str, object]]) -> None:
    """Add rollup rows (`rollup_rows`, `reversal_rows`), inside the connection's transaction."""
    if rows:
        _UPSERTS["postgresql" if conn.dialect.name == "postgresql" else "sqlite"].many(conn, rows)


def add_rollup_values(conn: Connection, rows: list[tuple[object, ...]]) -> None:
    """`add_rollups` for rows as tuples in `ROW_COLUMNS` order (`rollup_values`)."""
    if rows:
        upsert = _UPSERTS["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
        upsert.many_ordered(conn, ROW_COLUMNS, rows)
