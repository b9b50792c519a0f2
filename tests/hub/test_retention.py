"""Old finished deliveries, their events and expired OAuth states are pruned; pending work
and recent history stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hub.retention import prune_history
from hub.store.event_tables import DeliveryAttempt, EventDelivery, OutboxEvent
from hub.store.platform_tables import OAuthState
from tests.support.hubs import start_hub


async def test_prune_history_keeps_pending_and_recent(sqlite_url: str) -> None:
    running = await start_hub({}, database_url=sqlite_url)
    try:
        hub, now = running.hub, running.clock.now()
        old, recent = now - timedelta(days=40), now - timedelta(days=1)
        async with hub.sessions.begin() as session:
            for event_id, at in (("evt_old", old), ("evt_stuck", old), ("evt_new", recent)):
                session.add(
                    OutboxEvent(
                        event_id=event_id,
                        team_id=running.team.id,
                        type="key.created",
                        payload="{}",
                        fanned_out=True,
                        created_at=at,
                    )
                )
            rows = [
                EventDelivery(
                    event_id="evt_old",
                    subscription_id="sub_a",
                    status="delivered",
                    attempts=1,
                    next_attempt_at=old,
                    created_at=old,
                ),
                EventDelivery(
                    event_id="evt_stuck",
                    subscription_id="sub_a",
                    status="pending",
                    attempts=3,
                    next_attempt_at=now,
                    created_at=old,
                ),
                EventDelivery(
                    event_id="evt_new",
                    subscription_id="sub_a",
                    status="delivered",
                    attempts=1,
                    next_attempt_at=recent,
                    created_at=recent,
                ),
            ]
            session.add_all(rows)
            await session.flush()
            session.add(DeliveryAttempt(delivery_id=rows[0].id, attempted_at=old, status_code=200))
            session.add(
                OAuthState(platform="slack", state="gone", expires_at=now - timedelta(minutes=1))
            )
            session.add(
                OAuthState(platform="slack", state="live", expires_at=now + timedelta(minutes=9))
            )
        pruned = await prune_history(hub.sessions, running.clock)
        assert (pruned.deliveries, pruned.events, pruned.oauth_states) == (1, 1, 1)
        async with hub.sessions() as session:
            events = set(await session.scalars(select(OutboxEvent.event_id)))
            statuses = sorted(await session.scalars(select(EventDelivery.status)))
            attempts = await session.scalar(select(func.count()).select_from(DeliveryAttempt))
            states = list(await session.scalars(select(OAuthState.state)))
        assert events == {"evt_stuck", "evt_new"}
        assert statuses == ["delivered", "pending"]
        assert attempts == 0
        assert states == ["live"]
    finally:
        await running.close()
