"""PostgreSQL: a batch's settlements in one statement, one round trip instead of three.

    released, moved, recorded = settle_batch_pg(tx, release, items, release_params)

Settling a batch in its transaction was the release and the counters' move (one statement,
hub/ledger/settling.py), the usage records' INSERT … RETURNING (SQLAlchemy's many-row
INSERT) and the rollups' upsert (an executemany): three round trips, and the INSERT's
SQLAlchemy execution the heaviest Python of the three. Here the records go as one array per
column and their rollup facts as one array of `pg_rollups.FACT_TYPE` (migration 0022),
staged as they are in `usage_rollup_staged` (migration 0024: a fold expands them into the
rollups later, hub/ledger/fold.py), both `unnest`ed, so the statement is the same text
whatever the batch's size and is prepared once per connection, and both are data-modifying
CTEs after the release's, written only if the release took every hold of the batch (`WHERE
(SELECT count(*) FROM released) = n`). Otherwise (a hold recovered or settled already) the
statement released what it could and moved those holds' counters, wrote no record and staged
no fact, and `recorded` is None: the caller writes the released ones' records as before and
settles the others one by one.

The statement's parts are built from the tables (the columns `RECORD_COLUMNS` and
`ROW_COLUMNS` name, each record array cast to its column's type as SQLAlchemy compiles it,
and bound through that type's own conversion), so a column added to the records' table is
written here too. The facts are bound by position into `FACT_TYPE`'s attributes, so a
column added to the rollups, or a length changed, needs a migration that drops and creates
the type again in `FACT_COLUMNS`' order (a test compares the type's attributes, order and
types with `FACT_COLUMNS` and the table). Texts longer than their columns never reach it:
`UsageEntry.row_tuple` cuts them (a composite's attribute refuses an over-long value where
an explicit cast cut it).
Records come back with their request ids (unique), never matched by position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from hub.ledger.pg_rollups import FACTS, facts, stage_sql
from hub.ledger.precompiled import Compiled, execute_rows
from hub.ledger.rollups import BY_POSITION
from hub.ledger.usage_entry import RECORD_COLUMNS
from hub.ledger.writer import Tx
from hub.store.ledger_tables import UsageRecord

if TYPE_CHECKING:
    from hub.ledger.settling import SettleItem

_RECORDS = cast(Table, UsageRecord.__table__)


def _unnest(table: Table, columns: Sequence[str], prefix: str, dialect: Dialect) -> str:
    casts = ", ".join(
        f"CAST(:{prefix}{name} AS {table.c[name].type.compile(dialect=dialect)}[])"
        for name in columns
    )
    names = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    return f"SELECT * FROM unnest({casts}) AS {prefix}rows({names})"


def _sql(release_sql: str, dialect: Dialect) -> Any:
    quote = dialect.identifier_preparer.quote
    all_released = "(SELECT count(*) FROM released) = :held_count"
    record_names = ", ".join(quote(name) for name in RECORD_COLUMNS)
    # The release's text (its `:name` parameters as written) ends with its own SELECT: keep
    # its CTEs only.
    ctes = release_sql[: release_sql.rindex(" SELECT 0, id")]
    statement = text(
        f"{ctes}, "
        f"rec AS (INSERT INTO {_RECORDS.name} ({record_names}) "
        f"{_unnest(_RECORDS, RECORD_COLUMNS, 'r_', dialect)} WHERE {all_released} "
        "RETURNING id, request_id), "
        f"roll AS ({stage_sql(dialect, where=all_released)}) "
        "SELECT 0, id, NULL, 0, 0 FROM released "
        "UNION ALL SELECT 1, id, NULL, cost_spent_micros, tokens_spent FROM moved "
        "UNION ALL SELECT 2, id, request_id, 0, 0 FROM rec"
    )
    return statement.bindparams(
        *(bindparam(f"r_{n}", type_=ARRAY(_RECORDS.c[n].type)) for n in RECORD_COLUMNS),
        FACTS,
    )


_COMPILED: dict[str, Compiled] = {}


def settle_batch_pg(
    tx: Tx, release: ClauseElement, items: Sequence[SettleItem], release_params: dict[str, object]
) -> tuple[set[int], dict[int, tuple[int, int]], dict[str, int] | None]:
    """The holds released, each moved counter's spent (cost, tokens) afterwards, and the
    usage records' ids by request id (None: not every hold was released, so no record or
    rollup was written)."""
    dialect = tx.conn.dialect
    compiled = _COMPILED.get(dialect.name)
    if compiled is None:
        assert isinstance(release, TextClause)
        compiled = _COMPILED[dialect.name] = Compiled(_sql(release.text, dialect), dialect, ())
    records = [item.entry.row_tuple(item.now) for item in items]
    params: dict[str, object] = dict(release_params)
    params["held_count"] = len(items)
    for name, values in zip(RECORD_COLUMNS, zip(*records, strict=True), strict=True):
        params[f"r_{name}"] = list(values)
    params["u_facts"] = facts(records, dialect, BY_POSITION)
    rows = execute_rows(tx.conn, compiled.sql, compiled.row(params))
    released = {int(row[1]) for row in rows if row[0] == 0}
    moved = {int(row[1]): (int(row[3]), int(row[4])) for row in rows if row[0] == 1}
    if len(released) < len(items):
        return released, moved, None
    return released, moved, {str(row[2]): int(row[1]) for row in rows if row[0] == 2}
