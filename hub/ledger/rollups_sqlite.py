"""The rollup upsert on SQLite with each value bound once: numbered parameters (`?NNN`).

A usage record adds the same sums to each of its (up to) twenty-four rollup rows, under keys
that repeat its dimensions, its buckets and its bins. Bound row by row (hub/ledger/multirow.py)
that was 24 x 25 = 600 parameters for one record; pysqlite binds each one (a type check, a
UTF-8 copy of every string), and that was a third of the statement's time. Here the SQL names
each value once and refers to it from every row that has it, and what is the same for every
record (the cube's and the grain's names, a dimension the cube drops: 0 or '') is written into
the SQL itself: one record binds 32 values. Measured on a copy of the bench's database
(`bench/ledger_batches.py`'s rows, all updates): the 24-row upsert 105-120 µs bound row by
row, 64-70 µs with its keys written in the SQL; building the rows in Python 25 µs, here a
tuple of 32.

Per identity (hub/ledger/rollups.py `grouped`: the records of a batch that share their
dimensions, first deployment and quarter hour) one statement for the rows of every bin slot
in which its records share one bin (for a batch of one record: every slot, its sums bound
once), and one per other slot with its bins (their count cut into `SIZES`), so that only a
bounded number of SQL texts exist (SQLite prepares a new text in ~230 µs; the driver keeps
the prepared ones by text). Rows of two identities may share a key (a cube that drops the
dimension they differ by): SQLite's upsert takes a statement's rows one after the other, so
the second adds to the row the first wrote, in one statement or two alike.

The column list, the conflict target and the update are SQLAlchemy's compile of the one-row
upsert (`_UPSERT_ROWS`), so a column added to the table and to the rows is written too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from hub.ledger.multirow import in_sizes
from hub.ledger.precompiled import execute_rows
from hub.ledger.rollups import (
    _FIRST,
    _PLAN,
    _UPSERT_ROWS,
    ABSENTS,
    BY_POSITION,
    GRAIN_SLOTS,
    SUM_COLUMNS,
    add_rollups_of,
    buckets_of,
    grouped,
    measured,
    sql_literal,
)
from hub.ledger.usage_entry import RECORD_COLUMNS
from hub.store.rollup_tables import DIMENSION_COLUMNS

_WIDTH = len(DIMENSION_COLUMNS)
# The parameters every statement starts with: the identity's dimensions, its first
# deployment, its buckets (`GRAIN_SLOTS` order); then each segment's bins and sums.
_FIRST_PARAM = _WIDTH + 1
_BUCKET_PARAM = _WIDTH + 2
_HEAD_PARAMS = _WIDTH + 1 + len(GRAIN_SLOTS)
_SUMS = len(SUM_COLUMNS)
# A segment: a bin slot's rows for one bin, the parameter numbers of its bin and of its
# first sum (the sums follow in `SUM_COLUMNS` order).
_Segment = tuple[int, int, int]
_SQL: dict[tuple[_Segment, ...], str] = {}


def _sql(conn: Connection, segments: tuple[_Segment, ...]) -> str:
    """The upsert of these segments' rows, built once per shape."""
    known = _SQL.get(segments)
    if known is not None:
        return known
    head, tail, order = _UPSERT_ROWS.around(conn)
    groups: list[str] = []
    for slot, bin_param, sums_param in segments:
        for prefixes, _, step_slot, positions in _PLAN:
            if step_slot != slot:
                continue
            for cube, grain, at in prefixes:
                value: dict[str, str] = {
                    "cube": sql_literal(cube),
                    "grain": sql_literal(grain),
                    "bucket": f"?{_BUCKET_PARAM + at}",
                    "bin": f"?{bin_param}",
                }
                for name, position in zip(DIMENSION_COLUMNS, positions, strict=True):
                    if position < _WIDTH:
                        value[name] = f"?{position + 1}"
                    elif position == _FIRST:
                        value[name] = f"?{_FIRST_PARAM}"
                    else:
                        value[name] = sql_literal(ABSENTS[position - _WIDTH])
                for k, name in enumerate(SUM_COLUMNS):
                    value[name] = f"?{sums_param + k}"
                groups.append("(" + ", ".join(value[name] for name in order) + ")")
    sql = _SQL[segments] = head + ", ".join(groups) + tail
    return sql


def add_rollups_sqlite(conn: Connection, records: Sequence[tuple[Any, ...]]) -> None:
    """Add usage records (`UsageEntry.row_tuple`'s tuples) to their rollup rows, inside the
    connection's transaction (SQLite)."""
    if not records:
        return
    conversions = _UPSERT_ROWS.conversions(conn)
    if not conversions.keys() <= {"bucket"}:  # values the driver's form is not: the rows
        add_rollups_of(conn, [dict(zip(RECORD_COLUMNS, r, strict=True)) for r in records])
        return
    convert = conversions.get("bucket")
    if len(records) == 1:
        identity, bins, amounts = measured(records[0], sign=1, fields=BY_POSITION)
        dimensions, first, quarter = identity
        # Every slot's rows add the same sums: bound once, after the head, then the bins.
        sums_param = _HEAD_PARAMS + 1
        present = [(slot, bin_) for slot, bin_ in enumerate(bins) if bin_ is not None]
        segments = tuple(
            (slot, sums_param + _SUMS + k, sums_param) for k, (slot, _) in enumerate(present)
        )
        values = (
            *dimensions,
            first,
            *buckets_of(quarter, convert),
            *amounts,
            *[bin_ for _, bin_ in present],
        )
        execute_rows(conn, _sql(conn, segments), values)
        return
    for (dimensions, first, quarter), slots in grouped(records, BY_POSITION):
        head = (*dimensions, first, *buckets_of(quarter, convert))
        # The slots of one bin together (every slot, when the records share their bins);
        # a slot of several bins alone, in chunks of `SIZES` bins.
        single = [(slot, by_bin) for slot, by_bin in enumerate(slots) if len(by_bin) == 1]
        if single:
            segments, flat = _segments(single)
            execute_rows(conn, _sql(conn, segments), (*head, *flat))
        for slot, by_bin in enumerate(slots):
            if len(by_bin) < 2:
                continue
            items = list(by_bin.items())
            for start, size in in_sizes(len(items)):
                segments, flat = _segments([(slot, dict(items[start : start + size]))])
                execute_rows(conn, _sql(conn, segments), (*head, *flat))


def _segments(
    slots: list[tuple[int, dict[int, tuple[int, ...]]]],
) -> tuple[tuple[_Segment, ...], list[object]]:
    """The segments of these slots' bins (each bin, then its sums) and their values."""
    segments: list[_Segment] = []
    flat: list[object] = []
    param = _HEAD_PARAMS + 1
    for slot, by_bin in slots:
        for bin_, amounts in by_bin.items():
            segments.append((slot, param, param + 1))
            flat.append(bin_)
            flat += amounts
            param += 1 + _SUMS
    return tuple(segments), flat
