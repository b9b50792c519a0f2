"""Forgetting what is no longer needed: finished event deliveries and their outbox rows,
and OAuth states past their expiry. Run by the scheduler; pending work is never touched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.store.event_tables import DeliveryAttempt, EventDelivery, OutboxEvent
from hub.store.platform_tables import OAuthState

EVENT_HISTORY = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Pruned:
    deliveries: int
    events: int
    oauth_states: int


async def prune_history(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, *, keep: timedelta = EVENT_HISTORY
) -> Pruned:
    now = clock.now()
    cutoff = now - keep
    async with sessions.begin() as session:
        old_done = select(EventDelivery.id).where(
            EventDelivery.status != "pending", EventDelivery.created_at < cutoff
        )
        await session.execute(
            delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(old_done))
        )
        deliveries = await session.execute(
            delete(EventDelivery).where(EventDelivery.id.in_(old_done))
        )
        # An event goes once every delivery made from it is gone (and it was fanned out).
        events = await session.execute(
            delete(OutboxEvent).where(
                OutboxEvent.fanned_out.is_(True),
                OutboxEvent.created_at < cutoff,
                ~exists().where(EventDelivery.event_id == OutboxEvent.event_id),
            )
        )
        states = await session.execute(delete(OAuthState).where(OAuthState.expires_at < now))
    return Pruned(
        deliveries=int(deliveries.rowcount),  # type: ignore[attr-defined]
        events=int(events.rowcount),  # type: ignore[attr-defined]
        oauth_states=int(states.rowcount),  # type: ignore[attr-defined]
    )
