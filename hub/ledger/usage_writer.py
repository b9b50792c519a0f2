"""The one place a usage record is written.

Settle, the lease sweeper's `interrupted` records, embeddings and cache hits all come here, so
whatever must move with a usage record (rollups) moves in the same transaction, and metrics
count every record exactly once (hub/observer.py: after the transaction commits).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.ledger.rollups import add_to_rollups
from hub.ledger.usage_entry import UsageEntry
from hub.observer import note_usage
from hub.store.ledger_tables import UsageRecord


async def record_usage(session: AsyncSession, entry: UsageEntry, *, now: datetime) -> int:
    """Insert the usage record inside the caller's transaction; its id."""
    usage_id = await session.scalar(
        insert(UsageRecord).values(**entry.row_values(now)).returning(UsageRecord.id)
    )
    assert usage_id is not None
    await add_to_rollups(session, entry, now=now)  # reports read these (hub/ledger/summary.py)
    note_usage(session, entry)  # metrics count it once the transaction commits
    return int(usage_id)
