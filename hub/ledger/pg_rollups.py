"""PostgreSQL: a settlement's rollup rows expanded by the server, from each record's facts.

    sql = upsert_sql(dialect, grouped=True)      # parameter `u_facts`
    params = {"u_facts": facts(records, dialect)}

A usage record adds to twenty-four rollup rows (hub/ledger/rollups.py). Built in Python and
bound as twenty-four composite rows, they cost the hub the rows' tuples, the driver's encoding
of ~600 values and a check per row against abstract base classes, and the server the
decoding of them all. Here each record is bound once, as its facts (`FACT_COLUMNS`, the
composite type `FACT_TYPE`, migration 0022): its dimensions (absent ones as 0 / ""), the
deployment tried first, its buckets at every grain, its bin in each measure and its sums,
worked out in Python as `rollups._measured` does for the rows; the statement cross-joins them
with the cubes' shapes (`SHAPES`: cube, grain, which bucket and bin, generated from
hub/ledger/cubes.py through rollups.py's `_SHAPES`), keeps each cube's dimensions, drops the
rows whose measure the record lacks (no first token, no deployment), and upserts. Records of a
batch may share keys, and ON CONFLICT cannot update a row twice in one statement, so a batch's
rows are summed per key first (`grouped`); one record's rows have distinct keys.

The facts are bound by position into `FACT_TYPE`'s attributes: a column added to the facts
needs a migration that creates the type again in `FACT_COLUMNS`' order (a test compares the
type's attributes with `FACT_COLUMNS` and the rollup table's types).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import BindParameter, Connection, Table, bindparam, text
from sqlalchemy.engine import Dialect

from hub.ledger.precompiled import Compiled, execute_rows
from hub.ledger.rollups import (
    _BIN_SLOTS,
    _GRAIN_SLOTS,
    _SHAPES,
    BY_NAME,
    ROW_COLUMNS,
    SUM_COLUMNS,
    Fields,
    _buckets,
    _measured,
)
from hub.store.rollup_tables import DIMENSION_COLUMNS, ROLLUP_KEY, UsageRollup

_ROLLUPS = cast(Table, UsageRollup.__table__)
FACT_TYPE = "usage_rollup_fact"
_BUCKETS = tuple(f"bucket_{grain}" for grain in _GRAIN_SLOTS)  # bucket_15m … bucket_day
_BINS = tuple(f"bin_{slot}" for slot in _BIN_SLOTS[1:])  # slot 0 (no measure) is always 0
FACT_COLUMNS = (*DIMENSION_COLUMNS, "first_deployment", *_BUCKETS, *_BINS, *SUM_COLUMNS)
# Of each fact, the SQL type (the rollup table's column it lands in; NULL bins: no such row).
FACT_TYPES = {
    **{name: name for name in DIMENSION_COLUMNS},
    "first_deployment": "deployment",
    **{name: "bucket" for name in _BUCKETS},
    **{name: "bin" for name in _BINS},
    **{name: name for name in SUM_COLUMNS},
}
_ABSENT = {"member_id": "0", "key_id": "0", "team_id": "0"}


def facts(
    records: Sequence[Any], dialect: Dialect, fields: Fields = BY_NAME
) -> list[tuple[Any, ...]]:
    """`u_facts`: each record's facts in `FACT_COLUMNS` order, in the driver's form (the
    buckets converted by their column's type, once per quarter hour). `fields`: how a record
    is read (rollups.py `BY_NAME`, `BY_POSITION`)."""
    convert = _BUCKET_BINDS.get(dialect.name)
    if convert is None:
        convert = _BUCKET_BINDS[dialect.name] = _ROLLUPS.c.bucket.type.bind_processor(dialect)
    out = []
    for record in records:
        (dimensions, first, quarter), bins, amounts = _measured(record, sign=1, fields=fields)
        out.append((*dimensions, first, *_buckets(quarter, convert), *bins[1:], *amounts))
    return out


_BUCKET_BINDS: dict[str, Any] = {}


def _shapes_values() -> str:
    rows = [
        f"('{cube}', '{grain}', {_GRAIN_SLOTS.index(grain)}, {_BIN_SLOTS.index(measure)})"
        for cube, grains, _, measure in _SHAPES
        for grain in grains
    ]
    return f"(VALUES {', '.join(rows)}) AS s(cube, grain, g, b)"


def _dimension(position: int, name: str, quote: Any) -> str:
    """The rollup row's `name`: the record's where the cube keeps it, else absent; the
    fail-over cube's deployment is the one tried first."""
    kept = [cube for cube, _, positions, _ in _SHAPES if position in positions]
    value = f"f.{quote(name)}"
    if name == "deployment":
        kept = [cube for cube in kept if cube != "failover"]
        value = f"CASE WHEN s.cube = 'failover' THEN f.first_deployment ELSE {value} END"
        kept.append("failover")
    if len(kept) == len(_SHAPES):
        return value
    cubes = ", ".join(f"'{cube}'" for cube in kept)
    absent = _ABSENT.get(name, "''")
    return f"CASE WHEN s.cube IN ({cubes}) THEN {value} ELSE {absent} END"


def expansion_sql(dialect: Dialect, *, grouped: bool, where: str = "") -> str:
    """The rollup rows (`ROW_COLUMNS` order) of the facts in parameter `u_facts`; `grouped`:
    summed per key (records that may share keys); `where`: a further condition."""
    quote = dialect.identifier_preparer.quote
    bucket = " ".join(f"WHEN {i} THEN f.{name}" for i, name in enumerate(_BUCKETS))
    bins = " ".join(f"WHEN {i + 1} THEN f.{name}" for i, name in enumerate(_BINS))
    bin_ = f"CASE s.b WHEN 0 THEN 0 {bins} END"
    keys = [
        "s.cube",
        "s.grain",
        f"CASE s.g {bucket} END",
        *(_dimension(i, name, quote) for i, name in enumerate(DIMENSION_COLUMNS)),
        bin_,
    ]
    sums = [f"sum(f.{quote(n)})" if grouped else f"f.{quote(n)}" for n in SUM_COLUMNS]
    condition = f"{bin_} IS NOT NULL" + (f" AND {where}" if where else "")
    sql = (
        f"SELECT {', '.join(keys + sums)} "
        f"FROM unnest(CAST(:u_facts AS {FACT_TYPE}[])) AS f CROSS JOIN {_shapes_values()} "
        f"WHERE {condition}"
    )
    if grouped:
        sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(ROLLUP_KEY)))
    return sql


def upsert_sql(dialect: Dialect, *, grouped: bool, where: str = "") -> str:
    """`expansion_sql`'s rows added to the rollups (`INSERT … ON CONFLICT DO UPDATE`)."""
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in ROW_COLUMNS)
    sums = ", ".join(f"{quote(n)} = r.{quote(n)} + EXCLUDED.{quote(n)}" for n in SUM_COLUMNS)
    key = ", ".join(quote(name) for name in ROLLUP_KEY)
    return (
        f"INSERT INTO {_ROLLUPS.name} AS r ({names}) "
        f"{expansion_sql(dialect, grouped=grouped, where=where)} "
        f"ON CONFLICT ({key}) DO UPDATE SET {sums}"
    )


# Bound as it is (no type: the facts are already in the driver's form).
FACTS: BindParameter[Any] = bindparam("u_facts")
_UPSERTS: dict[str, Compiled] = {}


def add_rollups_pg(conn: Connection, records: Sequence[Any], fields: Fields = BY_NAME) -> None:
    """Add usage records (`UsageEntry.row_values`, or by `fields`) to their rollup rows in one
    statement, inside the connection's transaction."""
    if not records:
        return
    dialect = conn.dialect
    compiled = _UPSERTS.get(dialect.name)
    if compiled is None:
        statement = text(upsert_sql(dialect, grouped=True)).bindparams(FACTS)
        compiled = _UPSERTS[dialect.name] = Compiled(statement, dialect, ())
    execute_rows(conn, compiled.sql, compiled.row({"u_facts": facts(records, dialect, fields)}))
