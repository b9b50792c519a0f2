"""The delivery worker: fans outbox events out to subscriptions and POSTs them, signed.

Everything it knows lives in the database (outbox, deliveries with their next attempt time,
attempt log), so a restart loses nothing and several workers can run side by side: a
delivery is claimed with a conditional UPDATE that moves its next attempt a lease ahead.
Chat requests never wait for it; it only runs as a background job (`run_once` per tick).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.events.schedule import LEASE, next_attempt, retry_after_seconds
from hub.events.signing import signed_headers
from hub.events.subscriptions import CALLBACK_SOURCE
from hub.ssrf import Resolver, TargetRefused, resolve_target, system_resolver
from hub.store.event_tables import DeliveryAttempt, EventDelivery, OutboxEvent, Subscription
from hub.store.secretbox import SecretBox

if TYPE_CHECKING:
    from hub.service import Hub

log = logging.getLogger("hub.events")


@dataclass(slots=True)
class DispatchReport:
    fanned_out: int = 0
    attempted: int = 0
    delivered: int = 0


@dataclass(frozen=True, slots=True)
class _Outcome:
    status_code: int | None
    error: str | None
    retry_after: float | None = None


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        http: httpx.AsyncClient,
        secrets_box: SecretBox,
        allow_private: bool,
        batch: int = 100,
        concurrency: int = 20,
        timeout_s: float = 10.0,
        resolver: Resolver = system_resolver,
        reads: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._sessions = sessions
        # Whether there is anything to do, asked where it takes no write lock (SQLite: the
        # read connections; each tick used to BEGIN IMMEDIATE twice to find nothing, and a
        # ledger batch that met the lock then waited for it).
        self._reads = reads or sessions
        self._clock = clock
        self._http = http
        self._box = secrets_box
        self._allow_private = allow_private
        self._batch = batch
        self._limit = asyncio.Semaphore(concurrency)
        self._timeout = httpx.Timeout(timeout_s)
        self._resolver = resolver

    @classmethod
    def for_hub(cls, hub: Hub) -> Dispatcher:
        return cls(
            hub.sessions,
            clock=hub.clock,
            http=hub.http,
            secrets_box=hub.secrets,
            allow_private=hub.settings.webhooks.allow_private_targets,
            reads=hub.read_sessions,
        )

    async def run_once(self) -> DispatchReport:
        """Fan out new events, then attempt every delivery that is due now."""
        report = DispatchReport(fanned_out=await self.fan_out())
        due = await self._claim_due()
        results = await asyncio.gather(*(self._bounded(d) for d in due))
        report.attempted = sum(1 for r in results if r is not None)
        report.delivered = sum(1 for r in results if r)
        return report

    async def fan_out(self) -> int:
        """One delivery row per matching active subscription for each new outbox event."""
        async with self._reads() as session:
            waiting = await session.scalar(
                select(OutboxEvent.id).where(OutboxEvent.fanned_out.is_(False)).limit(1)
            )
        if waiting is None:
            return 0
        async with self._sessions.begin() as session:
            events = list(
                await session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.fanned_out.is_(False))
                    .order_by(OutboxEvent.id)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            )
            if not events:
                return 0
            subscriptions = list(
                await session.scalars(
                    select(Subscription).where(
                        Subscription.team_id.in_({e.team_id for e in events}),
                        Subscription.active.is_(True),
                        Subscription.source != CALLBACK_SOURCE,
                    )
                )
            )
            insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            now = self._clock.now()
            for event in events:
                for sub in subscriptions:
                    if sub.team_id == event.team_id and event.type in sub.events.split(","):
                        await session.execute(
                            insert(EventDelivery)
                            .values(
                                event_id=event.event_id,
                                subscription_id=sub.id,
                                status="pending",
                                attempts=0,
                                next_attempt_at=now,
                                created_at=now,
                            )
                            .on_conflict_do_nothing()
                        )
                event.fanned_out = True
        return len(events)

    async def _claim_due(self) -> list[int]:
        now = self._clock.now()
        # A read: each claim below checks again that the delivery is still due and unclaimed.
        async with self._reads() as session:
            rows = await session.execute(
                select(EventDelivery.id, EventDelivery.next_attempt_at)
                .where(EventDelivery.status == "pending", EventDelivery.next_attempt_at <= now)
                .order_by(EventDelivery.next_attempt_at)
                .limit(self._batch)
            )
            due = [(row[0], row[1]) for row in rows]
        claimed = []
        for delivery_id, at in due:
            async with self._sessions.begin() as session:
                result = await session.execute(
                    update(EventDelivery)
                    .where(
                        EventDelivery.id == delivery_id,
                        EventDelivery.status == "pending",
                        EventDelivery.next_attempt_at == at,
                    )
                    .values(next_attempt_at=now + LEASE)
                )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(delivery_id)
        return claimed

    async def _bounded(self, delivery_id: int) -> bool | None:
        async with self._limit:
            try:
                return await self._deliver(delivery_id)
            except Exception:  # noqa: BLE001 - one bad delivery must not stop the others
                log.exception(
                    "delivery %s failed unexpectedly; retried after its lease", delivery_id
                )
                return None

    async def _deliver(self, delivery_id: int) -> bool | None:
        """True delivered, False failed (maybe retried), None skipped (target gone)."""
        async with self._sessions() as session:
            delivery = await session.get(EventDelivery, delivery_id)
            assert delivery is not None
            sub = await session.get(Subscription, delivery.subscription_id)
            event = await session.scalar(
                select(OutboxEvent).where(OutboxEvent.event_id == delivery.event_id)
            )
        if sub is None or not sub.active or event is None:
            await self._finish(delivery_id, status="cancelled")
            return None
        started = self._clock.monotonic()
        outcome = await self._post(sub, event)
        duration_ms = int((self._clock.monotonic() - started) * 1000)
        return await self._record(delivery, sub, outcome, duration_ms)

    async def _post(self, sub: Subscription, event: OutboxEvent) -> _Outcome:
        try:
            # Resolved once, here; the POST connects to the address that was checked.
            target = await resolve_target(
                sub.url, allow_private=self._allow_private, resolver=self._resolver
            )
        except TargetRefused as exc:
            return _Outcome(None, f"refused: {exc.user_message}")
        headers = signed_headers(
            self._box.decrypt(sub.secret_encrypted),
            msg_id=event.event_id,
            body=event.payload,
            now=self._clock.now(),
        )
        headers["user-agent"] = "UniLLM-Hub-Webhooks/1"
        try:
            # Redirects are not followed: they could lead past the private-address check.
            async with self._http.stream(
                "POST",
                content=event.payload.encode(),
                timeout=self._timeout,
                follow_redirects=False,
                **target.request_options(headers),
            ) as response:
                code = response.status_code
                retry_after = retry_after_seconds(
                    response.headers.get("retry-after"), self._clock.now()
                )
        except httpx.HTTPError as exc:
            return _Outcome(None, f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= code < 300:
            return _Outcome(code, None)
        return _Outcome(code, f"HTTP {code}", retry_after)

    async def _record(
        self, delivery: EventDelivery, sub: Subscription, outcome: _Outcome, duration_ms: int
    ) -> bool:
        now = self._clock.now()
        attempts = delivery.attempts + 1
        delivered = outcome.error is None
        values: dict[str, object] = {"attempts": attempts}
        if delivered:
            values["status"] = "delivered"
        elif outcome.status_code == 410:
            values["status"] = "gone"
        elif outcome.error and outcome.error.startswith("refused:"):
            values["status"] = "refused"
        else:
            when = next_attempt(
                attempts=attempts,
                created_at=delivery.created_at,
                now=now,
                retry_after=outcome.retry_after,
            )
            values["status"] = "pending" if when else "failed"
            values["next_attempt_at"] = when or now
        async with self._sessions.begin() as session:
            session.add(
                DeliveryAttempt(
                    delivery_id=delivery.id,
                    attempted_at=now,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=duration_ms,
                )
            )
            await session.execute(
                update(EventDelivery).where(EventDelivery.id == delivery.id).values(**values)
            )
            if values["status"] == "gone":
                await _disable(session, sub.id, now)
        return delivered

    async def _finish(self, delivery_id: int, *, status: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(EventDelivery).where(EventDelivery.id == delivery_id).values(status=status)
            )


async def _disable(session: AsyncSession, subscription_id: str, now: datetime) -> None:
    """410 Gone: the target asked never to be called again."""
    await session.execute(
        update(Subscription)
        .where(Subscription.id == subscription_id)
        .values(
            active=False,
            disabled_reason=f"target answered 410 Gone on {now.isoformat(timespec='seconds')}",
        )
    )
    await session.execute(
        update(EventDelivery)
        .where(EventDelivery.subscription_id == subscription_id, EventDelivery.status == "pending")
        .values(status="cancelled")
    )
