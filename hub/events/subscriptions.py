"""Event subscriptions per team: a target URL, the event types it wants, and its secret."""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import audit
from hub.clock import Clock
from hub.errors import BadRequest, NotFound
from hub.events.outbox import EVENT_TYPES
from hub.events.signing import new_webhook_secret
from hub.ssrf import Resolver, check_target, system_resolver
from hub.store.event_tables import DeliveryAttempt, EventDelivery, Subscription
from hub.store.secretbox import SecretBox

if TYPE_CHECKING:
    from hub.service import Hub

# Subscriptions with this source carry one inbound webhook's callback; they want no events.
CALLBACK_SOURCE = "callback"


@dataclass(frozen=True, slots=True)
class CreatedSubscription:
    id: str
    team_id: int
    url: str
    events: tuple[str, ...]
    secret: str  # shown once, to sign what the target receives


@dataclass(frozen=True, slots=True)
class AttemptLog:
    event_id: str
    delivery_status: str
    attempted_at: str
    status_code: int | None
    error: str | None
    duration_ms: int


def new_subscription_id(prefix: str = "sub_") -> str:
    return prefix + secrets.token_hex(10)


def parse_events(events: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(e.strip() for e in events if e.strip()))
    if not chosen:
        raise BadRequest(f"Name at least one event: {', '.join(EVENT_TYPES)}.")
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise BadRequest(
            f"Unknown event type '{unknown[0]}'; known types: {', '.join(EVENT_TYPES)}."
        )
    return chosen


def _audit_view(row: Subscription) -> dict[str, object]:
    return {"url": row.url, "events": row.events.split(","), "source": row.source}


class Subscriptions:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        secrets_box: SecretBox,
        allow_private: bool,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._box = secrets_box
        self._allow_private = allow_private
        self._resolver = resolver

    @classmethod
    def for_hub(cls, hub: Hub) -> Subscriptions:
        return cls(
            hub.sessions,
            clock=hub.clock,
            secrets_box=hub.secrets,
            allow_private=hub.settings.webhooks.allow_private_targets,
        )

    async def create(
        self, *, team_id: int, url: str, events: Sequence[str], source: str = "cli"
    ) -> CreatedSubscription:
        chosen = parse_events(events)
        await check_target(url, allow_private=self._allow_private, resolver=self._resolver)
        secret = new_webhook_secret()
        row = Subscription(
            id=new_subscription_id(),
            team_id=team_id,
            url=url,
            events=",".join(chosen),
            secret_encrypted=self._box.encrypt(secret),
            source=source,
            active=True,
            created_at=self._clock.now(),
        )
        async with self._sessions.begin() as session:
            session.add(row)
            if source != CALLBACK_SOURCE:  # a webhook's own callback is not an admin change
                await audit.record(
                    session,
                    now=self._clock.now(),
                    action="subscription.create",
                    team_id=team_id,
                    target=f"subscription:{row.id}",
                    after=_audit_view(row),
                )
        return CreatedSubscription(row.id, team_id, url, chosen, secret)

    async def send_once(
        self,
        *,
        team_id: int,
        url: str,
        secret_encrypted: str,
        event_type: str,
        body: str,
        event_id: str | None = None,
    ) -> str:
        """Queue one signed POST of `body` to `url` (an inbound webhook's callback) on the same
        durable delivery machinery as subscriptions; the event id."""
        # hub.events.direct builds on this module's names, so it is imported when first used.
        from hub.events.direct import enqueue_direct  # noqa: PLC0415

        async with self._sessions.begin() as session:
            return await enqueue_direct(
                session,
                team_id=team_id,
                url=url,
                secret_encrypted=secret_encrypted,
                event_type=event_type,
                body=body,
                now=self._clock.now(),
                event_id=event_id,
            )

    async def list(self, *, team_id: int | None = None) -> list[Subscription]:
        query = select(Subscription).where(Subscription.source != CALLBACK_SOURCE)
        if team_id is not None:
            query = query.where(Subscription.team_id == team_id)
        async with self._sessions() as session:
            return list(await session.scalars(query.order_by(Subscription.created_at)))

    async def get(self, subscription_id: str, *, team_id: int | None = None) -> Subscription:
        async with self._sessions() as session:
            row = await session.get(Subscription, subscription_id)
        # Another team's subscription is reported exactly like a missing one.
        if (
            row is None
            or row.source == CALLBACK_SOURCE
            or (team_id is not None and row.team_id != team_id)
        ):
            raise NotFound(f"No subscription with id '{subscription_id}'.")
        return row

    async def delete(self, subscription_id: str, *, team_id: int | None = None) -> None:
        row = await self.get(subscription_id, team_id=team_id)
        async with self._sessions.begin() as session:
            await session.execute(
                update(EventDelivery)
                .where(EventDelivery.subscription_id == row.id, EventDelivery.status == "pending")
                .values(status="cancelled")
            )
            found = await session.get(Subscription, row.id)
            if found is not None:
                await session.delete(found)
                await audit.record(
                    session,
                    now=self._clock.now(),
                    action="subscription.delete",
                    team_id=row.team_id,
                    target=f"subscription:{row.id}",
                    before=_audit_view(row),
                )

    async def attempts(self, subscription_id: str, *, limit: int = 50) -> builtins.list[AttemptLog]:
        """The delivery log, newest attempt first."""
        await self.get(subscription_id)
        async with self._sessions() as session:
            rows = await session.execute(
                select(EventDelivery, DeliveryAttempt)
                .join(DeliveryAttempt, DeliveryAttempt.delivery_id == EventDelivery.id)
                .where(EventDelivery.subscription_id == subscription_id)
                .order_by(DeliveryAttempt.id.desc())
                .limit(limit)
            )
            return [
                AttemptLog(
                    event_id=delivery.event_id,
                    delivery_status=delivery.status,
                    attempted_at=attempt.attempted_at.isoformat(timespec="seconds"),
                    status_code=attempt.status_code,
                    error=attempt.error,
                    duration_ms=attempt.duration_ms,
                )
                for delivery, attempt in rows.all()
            ]
