"""The one place a usage record is written (or, once, rewritten).

Settle, the lease sweeper's `interrupted` records, embeddings and cache hits all come here, so
whatever must move with a usage record (its staged rollup facts) moves in the same
transaction, and metrics count every record exactly once (hub/observer.py: after the
transaction commits).

`write_usage` is the synchronous core the ledger writer runs (hub/ledger/writer.py): any number
of records in one INSERT … RETURNING, and each record's rollup facts staged for the fold in
one more (hub/ledger/fold.py: the rollups' upsert is no longer in the settle's transaction).
`record_usage` and `rewrite_usage` are the same inside an ORM session's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from hub.ledger.multirow import MultiRow
from hub.ledger.pg_rollups import FACT_COLUMNS, facts, stage_rollups_pg
from hub.ledger.precompiled import Precompiled, insert_returning_ids
from hub.ledger.rollups import BY_POSITION, add_rollups, merged_rows, reversal_rows, rollup_rows
from hub.ledger.usage_entry import RECORD_COLUMNS, UsageEntry
from hub.observer import note_usage
from hub.store.ledger_tables import UsageRecord
from hub.store.rollup_tables import UsageRollupStaged

_RECORDS = cast(Table, UsageRecord.__table__)
# Built from the table: a column added to it (and to `UsageEntry.row_tuple` and
# `RECORD_COLUMNS`) is written too.
_INSERT = insert(_RECORDS).returning(_RECORDS.c.id, sort_by_parameter_order=True)
_INSERT_ONE = Precompiled(insert(_RECORDS).returning(_RECORDS.c.id))
# SQLite: the batch's records in one statement (or a few), returning (id, request_id): a
# multi-row RETURNING promises no order, so ids are matched by the unique request id.
_INSERT_ROWS = MultiRow(
    lambda rows: insert(_RECORDS).values(rows).returning(_RECORDS.c.id, _RECORDS.c.request_id),
    RECORD_COLUMNS,
)
_REQUEST_ID = RECORD_COLUMNS.index("request_id")
# SQLite: the records' rollup facts staged for the fold (hub/ledger/fold.py), in the driver's
# form already (`facts` converts the buckets as the table's type does).
_STAGE_ROWS = MultiRow(
    lambda rows: insert(cast(Table, UsageRollupStaged.__table__)).values(rows), FACT_COLUMNS
)
_READ = select(_RECORDS).where(_RECORDS.c.id == bindparam("usage_id"))


def write_usage(conn: Connection, entries: Sequence[tuple[UsageEntry, datetime]]) -> list[int]:
    """Insert the records (each with its creation time) and stage their rollup facts, inside
    the connection's transaction; their ids, in order."""
    if not entries:
        return []
    if conn.dialect.name == "postgresql":
        rows = [entry.row_values(now) for entry, now in entries]
        ids = insert_returning_ids(conn, _INSERT, _INSERT_ONE, rows)
        stage_rollups_pg(conn, rows)
        return ids
    # SQLite: the records as tuples in `RECORD_COLUMNS` order, for the INSERT and the rollups
    # alike (no dict per record).
    records = [entry.row_tuple(now) for entry, now in entries]
    ids = _inserted_sqlite(conn, records)
    _STAGE_ROWS.execute(conn, facts(records, conn.dialect, BY_POSITION), converted=True)
    return ids


def _inserted_sqlite(conn: Connection, records: list[tuple[object, ...]]) -> list[int]:
    """The records in one INSERT … RETURNING (SQLite); their ids in `records`' order."""
    returned = _INSERT_ROWS.execute(conn, records)
    if len(returned) == 1:
        return [int(returned[0][0])]
    by_request = {request_id: int(usage_id) for usage_id, request_id in returned}
    return [by_request[record[_REQUEST_ID]] for record in records]


def rewrite_usage_in(
    conn: Connection, usage_id: int, entry: UsageEntry, *, created_at: datetime
) -> None:
    """Replace a stored record's figures with `entry`'s (a late settle correcting a recovered
    `interrupted` estimate), moving its rollups by the difference."""
    old = dict(conn.execute(_READ, {"usage_id": usage_id}).mappings().one())
    rows = [*reversal_rows(old), *rollup_rows(entry, created_at)]
    conn.execute(update(_RECORDS).where(_RECORDS.c.id == usage_id), entry.row_values(created_at))
    add_rollups(conn, merged_rows(rows))


async def record_usage(session: AsyncSession, entry: UsageEntry, *, now: datetime) -> int:
    """Insert the usage record inside the caller's transaction; its id."""

    def write(sync: Session) -> int:
        return write_usage(sync.connection(), [(entry, now)])[0]

    usage_id = await session.run_sync(write)
    note_usage(session, entry)  # metrics count it once the transaction commits
    return usage_id


async def rewrite_usage(
    session: AsyncSession, usage_id: int, entry: UsageEntry, *, created_at: datetime
) -> None:
    """`rewrite_usage_in`, in the caller's transaction."""

    def write(sync: Session) -> None:
        rewrite_usage_in(sync.connection(), usage_id, entry, created_at=created_at)

    await session.run_sync(write)
