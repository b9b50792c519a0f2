"""A usage record's rollup facts, and (PostgreSQL) their rows expanded by the server.

    sql = stage_sql(dialect)                     # the settlement: parameter `u_facts`
    params = {"u_facts": facts(records, dialect)}
    upsert_sql(dialect, grouped=True, source="g")   # the fold (hub/ledger/fold.py)

The settlements stage each record's facts (`stage_sql`, both backends bind `facts`' tuples)
and the fold expands staged facts into their rows (`upsert_sql` over its own source).

A usage record adds to twenty-four rollup rows (hub/ledger/rollups.py). Built in Python and
bound as twenty-four composite rows, they cost the hub the rows' tuples, the driver's encoding
of ~600 values and a check per row against abstract base classes, and the server the
decoding of them all. Here each record is bound once, as its facts (`FACT_COLUMNS`, the
composite type `FACT_TYPE`, migration 0022): its dimensions (absent ones as 0 / ""), the
deployment tried first, its buckets at every grain, its bin in each measure and its sums,
worked out in Python as `rollups.measured` does for the rows; the statement joins each to
the cubes' shapes (a `LATERAL (VALUES …)` of the facts' columns and constants: each cube's
grains, kept dimensions and bin, generated from hub/ledger/cubes.py through rollups.py's
`SHAPES`), drops the rows whose measure the record lacks (no first token, no deployment),
and upserts. Records of a fold may share keys, and ON CONFLICT cannot update a row twice in
one statement, so a fold's rows are summed per key first (`grouped`).

The facts are bound by position into `FACT_TYPE`'s attributes: a column added to the facts
needs a migration that creates the type again in `FACT_COLUMNS`' order (a test compares the
type's attributes with `FACT_COLUMNS` and the rollup table's types).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import BindParameter, Connection, Table, bindparam, text
from sqlalchemy.engine import Dialect

from hub.ledger.precompiled import Compiled, bind_processor, execute_rows
from hub.ledger.rollups import (
    ABSENTS,
    BIN_SLOTS,
    BY_NAME,
    GRAIN_SLOTS,
    ROW_COLUMNS,
    SHAPES,
    SUM_COLUMNS,
    Fields,
    buckets_of,
    measured,
    sql_literal,
)
from hub.store.rollup_tables import DIMENSION_COLUMNS, ROLLUP_KEY, UsageRollup

_ROLLUPS = cast(Table, UsageRollup.__table__)
FACT_TYPE = "usage_rollup_fact"
_BUCKETS = tuple(f"bucket_{grain}" for grain in GRAIN_SLOTS)  # bucket_15m … bucket_day
_BINS = tuple(f"bin_{slot}" for slot in BIN_SLOTS[1:])  # slot 0 (no measure) is always 0
FACT_COLUMNS = (*DIMENSION_COLUMNS, "first_deployment", *_BUCKETS, *_BINS, *SUM_COLUMNS)
# Of each fact, the SQL type (the rollup table's column it lands in; NULL bins: no such row).
FACT_TYPES = {
    **{name: name for name in DIMENSION_COLUMNS},
    "first_deployment": "deployment",
    **{name: "bucket" for name in _BUCKETS},
    **{name: "bin" for name in _BINS},
    **{name: name for name in SUM_COLUMNS},
}


def facts(
    records: Sequence[Any], dialect: Dialect, fields: Fields = BY_NAME
) -> list[tuple[Any, ...]]:
    """`u_facts`: each record's facts in `FACT_COLUMNS` order, in the driver's form (the
    buckets converted by their column's type, once per quarter hour). `fields`: how a record
    is read (rollups.py `BY_NAME`, `BY_POSITION`)."""
    convert = _BUCKET_BINDS.get(dialect.name)
    if convert is None:
        type_ = _ROLLUPS.c.bucket.type
        # SQLite: the text the column stores (the decorator's own processor gives a datetime).
        convert = _BUCKET_BINDS[dialect.name] = (
            bind_processor(type_, dialect)
            if dialect.name == "sqlite"
            else type_.bind_processor(dialect)
        )
    out = []
    for record in records:
        (dimensions, first, quarter), bins, amounts = measured(record, sign=1, fields=fields)
        out.append((*dimensions, first, *buckets_of(quarter, convert), *bins[1:], *amounts))
    return out


_BUCKET_BINDS: dict[str, Any] = {}


def fact_keys(quote: Any) -> list[str]:
    """Each shape and grain's rollup key of a record's facts `f` (a row of `FACT_COLUMNS`),
    as SQL: the cube, grain, bucket, the dimensions it keeps (the others absent; the
    fail-over cube's deployment the one tried first) and its bin, each a constant or a
    column of `f`, so the server builds the twenty-four rows without a test per row. Both
    expansions use it: the settlement's (`_rows`) and the fold's (hub/ledger/fold.py)."""
    keys = []
    for cube, grains, kept, measure in SHAPES:
        dimensions = [
            f"f.{quote(name)}" if i in kept else sql_literal(ABSENTS[i])
            for i, name in enumerate(DIMENSION_COLUMNS)
        ]
        if cube == "failover":
            dimensions[DIMENSION_COLUMNS.index("deployment")] = "f.first_deployment"
        bin_ = f"f.bin_{measure}" if measure else "0"
        for grain in grains:
            keys.append(
                f"{sql_literal(cube)}, {sql_literal(grain)}, f.bucket_{grain}, "
                f"{', '.join(dimensions)}, {bin_}"
            )
    return keys


def _rows(quote: Any) -> str:
    """Each shape's row of a record's facts `f`, as `LATERAL (VALUES …)` (`fact_keys`)."""
    names = ", ".join(quote(name) for name in ROLLUP_KEY)
    values = ", ".join(f"({key})" for key in fact_keys(quote))
    return f"LATERAL (VALUES {values}) AS k({names})"


_UNNEST = f"unnest(CAST(:u_facts AS {FACT_TYPE}[]))"


def expansion_sql(
    dialect: Dialect, *, grouped: bool, where: str = "", source: str = _UNNEST
) -> str:
    """The rollup rows (`ROW_COLUMNS` order) of the facts in parameter `u_facts` (or of the
    `source` rows with `FACT_COLUMNS`: staged facts, hub/ledger/fold.py); `grouped`: summed
    per key (records that may share keys); `where`: a further condition."""
    quote = dialect.identifier_preparer.quote
    keys = [f"k.{quote(name)}" for name in ROLLUP_KEY]
    sums = [f"sum(f.{quote(n)})" if grouped else f"f.{quote(n)}" for n in SUM_COLUMNS]
    condition = "k.bin IS NOT NULL" + (f" AND {where}" if where else "")
    sql = (
        f"SELECT {', '.join(keys + sums)} "
        f"FROM {source} AS f CROSS JOIN {_rows(quote)} "
        f"WHERE {condition}"
    )
    if grouped:
        # Sorted by key: batches of two hub processes that share rollup rows lock them in one
        # order (as the counters' moves do), so they wait for each other, never deadlock.
        positions = ", ".join(str(i + 1) for i in range(len(ROLLUP_KEY)))
        sql += f" GROUP BY {positions} ORDER BY {positions}"
    return sql


def upsert_sql(dialect: Dialect, *, grouped: bool, where: str = "", source: str = _UNNEST) -> str:
    """`expansion_sql`'s rows added to the rollups (`INSERT … ON CONFLICT DO UPDATE`)."""
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in ROW_COLUMNS)
    sums = ", ".join(f"{quote(n)} = r.{quote(n)} + EXCLUDED.{quote(n)}" for n in SUM_COLUMNS)
    key = ", ".join(quote(name) for name in ROLLUP_KEY)
    return (
        f"INSERT INTO {_ROLLUPS.name} AS r ({names}) "
        f"{expansion_sql(dialect, grouped=grouped, where=where, source=source)} "
        f"ON CONFLICT ({key}) DO UPDATE SET {sums}"
    )


def stage_sql(dialect: Dialect, *, where: str = "") -> str:
    """The facts in parameter `u_facts` staged for a fold (`usage_rollup_staged`, hub/ledger/
    fold.py): one row per record, in the settlement's transaction; `where`: a condition."""
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in FACT_COLUMNS)
    return f"INSERT INTO {STAGED} ({names}) SELECT * FROM {_UNNEST} AS f" + (
        f" WHERE {where}" if where else ""
    )


STAGED = "usage_rollup_staged"
# Bound as it is (no type: the facts are already in the driver's form).
FACTS: BindParameter[Any] = bindparam("u_facts")
_UPSERTS: dict[str, Compiled] = {}


def stage_rollups_pg(conn: Connection, records: Sequence[Any], fields: Fields = BY_NAME) -> None:
    """Stage usage records' facts (`UsageEntry.row_values`, or by `fields`) for the fold, in
    one statement, inside the connection's transaction."""
    if not records:
        return
    dialect = conn.dialect
    compiled = _UPSERTS.get(dialect.name)
    if compiled is None:
        statement = text(stage_sql(dialect)).bindparams(FACTS)
        compiled = _UPSERTS[dialect.name] = Compiled(statement, dialect, ())
    execute_rows(conn, compiled.sql, compiled.row({"u_facts": facts(records, dialect, fields)}))
