"""PostgreSQL: a batch's only settlement as one statement in autocommit (`Settle.write_alone`,
hub/ledger/writer.py `Alone`): one round trip with its own commit instead of five (BEGIN,
the release and the counters' move, the record, its rollup facts, COMMIT).

The statement is the release-and-move of hub/ledger/settling.py, the usage record's INSERT
(compiled by SQLAlchemy from the table) and its rollup facts' staging (one row for the fold,
hub/ledger/fold.py), their parameters renumbered after the release's, as data-modifying
CTEs, and
a guard that divides by zero, so the server rolls the whole statement back and the writer
settles the request in a transaction as usual, unless

- the hold was there and this settle released it (else: a late settle after a recovery, or a
  replay: `_write_unheld`'s work), and
- no budget threshold was crossed: no moved counter with a limit went from below 80% (or
  100%) of it to at least that (`crosses`, the test `crossed_thresholds` makes, in exact
  numeric arithmetic), since noting and announcing a crossing is more statements. A team
  between 80% and 100% of its budget, which crosses nothing more, settles in one statement
  like any other; only the settle that crosses a mark (twice a period per limit) fails.

A settlement whose team wants `completion.created` events (an outbox row) is not written
alone at all. What the statement writes is exactly what `Settle.write` writes for it. Its
last column sets the writer's `synchronous_commit` for the statement's own transaction
(hub/ledger/writer.py `SYNC_COMMIT`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Table, insert, text

from hub.ledger.holds import Settlement
from hub.ledger.pg_rollups import FACTS, facts, stage_sql
from hub.ledger.precompiled import Compiled, execute_rows
from hub.ledger.thresholds import THRESHOLDS
from hub.ledger.usage_entry import RECORD_COLUMNS
from hub.ledger.writer import SYNC_COMMIT
from hub.store.ledger_tables import UsageRecord

if TYPE_CHECKING:
    from hub.ledger.settling import SettleItem

_RECORDS = cast(Table, UsageRecord.__table__)
_NUMBER = re.compile(r"\$(\d+)")


# The guard, after the release's CTEs (`released`, `moved`) and the record's (`rec`): a row
# of the record's id, or a division by zero when the hold was not released here or a moved
# counter with a limit crossed a threshold (`crosses`, in exact numeric arithmetic).
def _crossing(spent: str, added: str, limit: str) -> str:
    before = f"CAST({spent} - {added} AS NUMERIC) * 100"
    return " OR ".join(
        f"({before} < CAST({limit} AS NUMERIC) * {percent} "
        f"AND CAST({limit} AS NUMERIC) * {percent} <= CAST({spent} AS NUMERIC) * 100)"
        for percent in THRESHOLDS
    )


_COST_CROSSED = _crossing("moved.cost_spent_micros", "lim.added_cost", "lim.cost_limit")
_TOKENS_CROSSED = _crossing("moved.tokens_spent", "lim.added_tokens", "lim.token_limit")
_GUARD = (
    "lim AS (SELECT *, CAST(:added_cost AS BIGINT) AS added_cost, "
    "CAST(:added_tokens AS BIGINT) AS added_tokens "
    "FROM unnest(CAST(:lim_ids AS BIGINT[]), CAST(:lim_cost AS BIGINT[]), "
    "CAST(:lim_tokens AS BIGINT[])) AS l(counter_id, cost_limit, token_limit)) "
    "SELECT 1 / (CASE WHEN (SELECT count(*) FROM released) = 1 AND NOT EXISTS ("
    "SELECT 1 FROM moved JOIN lim ON lim.counter_id = moved.id WHERE "
    f"(lim.cost_limit <> 0 AND ({_COST_CROSSED})) "
    f"OR (lim.token_limit <> 0 AND ({_TOKENS_CROSSED}))"
    ") THEN 1 ELSE 0 END), (SELECT id FROM rec), " + SYNC_COMMIT
)


class _Statement:
    """The composed statement (the record's columns: `RECORD_COLUMNS`, as `row_values` gives
    them)."""

    __slots__ = ("parts", "sql")

    def __init__(self, conn: Connection, release: Any) -> None:
        dialect = conn.dialect
        released = Compiled(release, dialect, ())
        record = Compiled(insert(_RECORDS).returning(_RECORDS.c.id), dialect, RECORD_COLUMNS)
        # The record's facts staged for the fold (hub/ledger/fold.py), not its rollup rows.
        upsert = Compiled(text(stage_sql(dialect)).bindparams(FACTS), dialect, ())
        guard = Compiled(text(_GUARD), dialect, ())
        # The release's text ends with its own SELECT: keep its CTEs only.
        ctes = released.sql[: released.sql.rindex(" SELECT 0, id")]
        offset = len(released.names)
        rec_sql = _renumbered(record.sql, offset)
        offset += len(record.names)
        roll_sql = _renumbered(upsert.sql, offset)
        offset += len(upsert.names)
        guard_sql = _renumbered(guard.sql, offset)
        self.sql = f"{ctes}, rec AS ({rec_sql}), roll AS ({roll_sql}), {guard_sql}"
        self.parts = (released, record, upsert, guard)


def _renumbered(sql: str, offset: int) -> str:
    return _NUMBER.sub(lambda m: f"${int(m[1]) + offset}", sql)


_STATEMENTS: dict[str, _Statement] = {}  # by dialect name


def settle_alone(
    conn: Connection,
    release: Any,
    item: SettleItem,
    release_params: dict[str, object],
    *,
    synchronous_commit: str | None,
) -> Settlement | None:
    """Write `item` (a SettleItem) alone; None: it cannot be (then nothing was sent).
    `synchronous_commit`: the writer's level for this statement's transaction (`Tx`)."""
    entry = item.entry
    limits = item.hold.limits
    if any((lim.cost_limit_micros or 0) < 0 or (lim.token_limit or 0) < 0 for lim in limits):
        return None
    record = entry.row_values(item.now)
    statement = _STATEMENTS.get(conn.dialect.name)
    if statement is None:
        statement = _STATEMENTS[conn.dialect.name] = _Statement(conn, release)
    guard = {
        "lim_ids": [lim.counter_id for lim in limits],
        "lim_cost": [lim.cost_limit_micros or 0 for lim in limits],
        "lim_tokens": [lim.token_limit or 0 for lim in limits],
        "added_cost": entry.cost_micros,
        "added_tokens": entry.tokens_charged,
        "synchronous_commit": synchronous_commit,
    }
    released, rec, _, check = statement.parts  # the upsert's one parameter: the facts
    values = (
        released.row(release_params)
        + rec.row(record)
        + (facts([record], conn.dialect),)
        + check.row(guard)
    )
    rows = execute_rows(conn, statement.sql, values)
    return Settlement(int(rows[0][1]), [])
