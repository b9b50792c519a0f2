"""The one place a usage record is written (or, once, rewritten).

Settle, the lease sweeper's `interrupted` records, embeddings and cache hits all come here, so
whatever must move with a usage record (rollups) moves in the same transaction, and metrics
count every record exactly once (hub/observer.py: after the transaction commits).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.ledger.rollups import add_to_rollups, reversal_rows, rollup_rows
from hub.ledger.usage_entry import UsageEntry
from hub.observer import note_usage
from hub.store.ledger_tables import UsageRecord


async def record_usage(session: AsyncSession, entry: UsageEntry, *, now: datetime) -> int:
    """Insert the usage record inside the caller's transaction; its id."""
    usage_id = await session.scalar(
        insert(UsageRecord).values(**entry.row_values(now)).returning(UsageRecord.id)
    )
    assert usage_id is not None
    await add_to_rollups(session, rollup_rows(entry, now))  # what reports read (summary.py)
    note_usage(session, entry)  # metrics count it once the transaction commits
    return int(usage_id)


async def rewrite_usage(
    session: AsyncSession, usage_id: int, entry: UsageEntry, *, created_at: datetime
) -> None:
    """Replace a stored record's figures with `entry`'s (a late settle correcting a recovered
    `interrupted` estimate), moving its rollups by the difference, in the caller's transaction."""
    old = await session.scalar(select(UsageRecord).where(UsageRecord.id == usage_id))
    assert old is not None
    await add_to_rollups(session, reversal_rows(old))
    await session.execute(
        update(UsageRecord).where(UsageRecord.id == usage_id).values(**entry.row_values(created_at))
    )
    await add_to_rollups(session, rollup_rows(entry, created_at))
