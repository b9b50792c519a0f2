"""A team's newest events, usage records and budget alerts, read for integrations that show
"recent items" (Zapier's `performList` samples) without reaching into the tables themselves."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.event_tables import BudgetAlert, OutboxEvent
from hub.store.ledger_tables import ApiKey, Quota, UsageRecord

if TYPE_CHECKING:
    from hub.service import Hub


@dataclass(frozen=True, slots=True)
class AlertWithQuota:
    """A crossed budget threshold and the quota it was measured against (None when the quota
    has since been removed)."""

    alert: BudgetAlert
    quota: Quota | None


class RecentItems:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @classmethod
    def for_hub(cls, hub: Hub) -> RecentItems:
        return cls(hub.sessions)

    async def event_envelopes(
        self, team_id: int, type_: str, *, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The team's outbox events of one type, newest first, as their JSON envelopes."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.team_id == team_id, OutboxEvent.type == type_)
                .order_by(OutboxEvent.id.desc())
                .limit(limit)
            )
            return [json.loads(row.payload) for row in rows]

    async def usage_records(self, team_id: int, *, limit: int) -> list[UsageRecord]:
        """The team's newest usage records, newest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(UsageRecord)
                .where(UsageRecord.team_id == team_id)
                .order_by(UsageRecord.created_at.desc(), UsageRecord.id.desc())
                .limit(limit)
            )
            return list(rows)

    async def budget_alerts(self, team_id: int, *, limit: int) -> list[AlertWithQuota]:
        """The newest thresholds crossed by the team or one of its keys, newest first."""
        async with self._sessions() as session:
            key_ids = select(ApiKey.id).where(ApiKey.team_id == team_id)
            alerts = list(
                await session.scalars(
                    select(BudgetAlert)
                    .where(
                        or_(
                            (BudgetAlert.scope == "team") & (BudgetAlert.scope_id == team_id),
                            (BudgetAlert.scope == "key") & BudgetAlert.scope_id.in_(key_ids),
                        )
                    )
                    .order_by(BudgetAlert.created_at.desc(), BudgetAlert.id.desc())
                    .limit(limit)
                )
            )
            found = []
            for alert in alerts:
                quota = await session.scalar(
                    select(Quota).where(
                        Quota.scope == alert.scope,
                        Quota.scope_id == alert.scope_id,
                        Quota.window == alert.window,
                    )
                )
                found.append(AlertWithQuota(alert, quota))
            return found
