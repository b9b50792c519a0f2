"""Reading the ledger's rows back in tests."""

from __future__ import annotations

from sqlalchemy import select

from hub.service import Hub
from hub.store.ledger_tables import UsageRecord


async def usage_rows(hub: Hub) -> list[UsageRecord]:
    async with hub.sessions() as session:
        return list(await session.scalars(select(UsageRecord).order_by(UsageRecord.id)))
