"""One-off signed deliveries to a URL (an inbound webhook's callback), on the same durable
machinery as event subscriptions: outbox row, delivery row, retries, attempt log.

The target is stored as a subscription with source `callback` that wants no event type, so
fan-out never picks it and listings never show it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.events.outbox import new_event_id
from hub.events.subscriptions import CALLBACK_SOURCE, new_subscription_id
from hub.store.event_tables import EventDelivery, OutboxEvent, Subscription


async def enqueue_direct(
    session: AsyncSession,
    *,
    team_id: int,
    url: str,
    secret_encrypted: str,
    event_type: str,
    body: str,
    now: datetime,
    event_id: str | None = None,
) -> str:
    """Queue `body` for a signed POST to `url` inside the caller's transaction; the event id."""
    event_id = event_id or new_event_id()
    subscription = Subscription(
        id=new_subscription_id("cb_"),
        team_id=team_id,
        url=url,
        events="",
        secret_encrypted=secret_encrypted,
        source=CALLBACK_SOURCE,
        active=True,
        created_at=now,
    )
    session.add(subscription)
    session.add(
        OutboxEvent(
            event_id=event_id,
            team_id=team_id,
            type=event_type,
            payload=body,
            fanned_out=True,
            created_at=now,
        )
    )
    session.add(
        EventDelivery(
            event_id=event_id,
            subscription_id=subscription.id,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return event_id
