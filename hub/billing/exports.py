"""Usage export to the payment platform as a durable job: one meter event per usage record and
non-zero token type, exactly once as far as the platform can tell.

1. `enqueue` turns usage records of teams with a platform customer into `usage_exports` rows
   (unique per record and token type, so running it twice adds nothing). The ledger's own
   records are the source: a record is never lost because a callback was missed.
2. `run_once` claims due rows with a conditional UPDATE that moves their next attempt a lease
   ahead (a worker killed mid-send leaves the row to be claimed again after the lease),
   sends each, and records the outcome: accepted or duplicate is delivered; 429 (honouring
   Retry-After), 5xx, timeouts and dropped connections are retried on the events'
   backoff schedule for up to `HORIZON`; a rejected event is marked failed with the reason.
The identifier is the record's request id and the token type, so a resend after a crash is
de-duplicated by the platform and counted as delivered here.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.billing.platform import MeterEvent, MeterOutcome, PaymentPlatform
from hub.billing.token_prices import split_counts
from hub.clock import Clock
from hub.events.schedule import LEASE, next_attempt
from hub.store.billing_tables import BillingAccount, UsageExport
from hub.store.engine import dialect_name
from hub.store.ledger_tables import UsageRecord

log = logging.getLogger("hub.billing.export")
# Stripe accepts meter events up to 35 days old: keep trying for a little less.
HORIZON = timedelta(days=33)


@dataclass(slots=True)
class ExportReport:
    enqueued: int = 0
    attempted: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0


def identifier(request_id: str, token_type: str) -> str:
    return f"{request_id}.{token_type}"


class UsageExporter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        batch: int = 200,
        concurrency: int = 8,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._batch = batch
        self._concurrency = concurrency

    async def enqueue(self) -> int:
        """Export rows for every record of a mapped team not exported yet; how many."""
        now = self._clock.now()
        added = 0
        async with self._sessions.begin() as session:
            accounts = list(
                await session.scalars(
                    select(BillingAccount).where(
                        BillingAccount.stripe_customer_id.is_not(None),
                        BillingAccount.export_from.is_not(None),
                    )
                )
            )
            insert = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
            for account in accounts:
                assert account.export_from is not None and account.stripe_customer_id
                since = datetime.combine(account.export_from, time(0), tzinfo=UTC)
                records = await session.execute(
                    select(UsageRecord)
                    .outerjoin(UsageExport, UsageExport.usage_id == UsageRecord.id)
                    .where(
                        UsageRecord.team_id == account.team_id,
                        UsageRecord.created_at >= since,
                        UsageRecord.prompt_tokens + UsageRecord.completion_tokens > 0,
                        UsageExport.id.is_(None),
                    )
                    .order_by(UsageRecord.id)
                    .limit(self._batch)
                )
                for (record,) in records:
                    counts = split_counts(
                        prompt=record.prompt_tokens,
                        completion=record.completion_tokens,
                        cached=record.cached_tokens,
                        cache_write=record.cache_write_tokens,
                        reasoning=record.reasoning_tokens,
                    )
                    for token_type, value in counts.items():
                        if value == 0:
                            continue
                        result = await session.execute(
                            insert(UsageExport)
                            .values(
                                usage_id=record.id,
                                token_type=token_type,
                                identifier=identifier(record.request_id, token_type),
                                team_id=record.team_id,
                                customer_id=account.stripe_customer_id,
                                model=record.alias,
                                value=value,
                                usage_created_at=record.created_at,
                                status="pending",
                                attempts=0,
                                next_attempt_at=now,
                                duplicate=False,
                                created_at=now,
                            )
                            .on_conflict_do_nothing()
                        )
                        added += result.rowcount or 0  # type: ignore[attr-defined]
        return added

    async def run_once(self, platform: PaymentPlatform) -> ExportReport:
        report = ExportReport(enqueued=await self.enqueue())
        due = await self._claim_due()
        limit = asyncio.Semaphore(self._concurrency)

        async def one(row: UsageExport) -> str:
            async with limit:
                return await self._send(platform, row)

        for result in await asyncio.gather(*(one(row) for row in due)):
            report.attempted += 1
            setattr(report, result, getattr(report, result) + 1)
        return report

    async def _claim_due(self) -> list[UsageExport]:
        now = self._clock.now()
        async with self._sessions() as session:
            due = list(
                await session.scalars(
                    select(UsageExport)
                    .where(UsageExport.status == "pending", UsageExport.next_attempt_at <= now)
                    .order_by(UsageExport.next_attempt_at, UsageExport.id)
                    .limit(self._batch)
                )
            )
        claimed = []
        for row in due:
            async with self._sessions.begin() as session:
                result = await session.execute(
                    update(UsageExport)
                    .where(
                        and_(
                            UsageExport.id == row.id,
                            UsageExport.status == "pending",
                            UsageExport.next_attempt_at == row.next_attempt_at,
                        )
                    )
                    .values(next_attempt_at=now + LEASE)
                )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(row)
        return claimed

    async def _send(self, platform: PaymentPlatform, row: UsageExport) -> str:
        event = MeterEvent(
            identifier=row.identifier,
            customer_id=row.customer_id,
            token_type=row.token_type,
            model=row.model,
            value=row.value,
            timestamp=row.usage_created_at,
        )
        try:
            outcome = await platform.send_meter_event(event)
        except Exception as exc:  # noqa: BLE001 - one bad send must not stop the batch
            log.exception("meter event %s could not be sent", row.identifier)
            outcome = MeterOutcome("retry", error=f"{type(exc).__name__}: {exc}"[:500])
        return await self._record(row, outcome)

    async def _record(self, row: UsageExport, outcome: MeterOutcome) -> str:
        now = self._clock.now()
        attempts = row.attempts + 1
        values: dict[str, object] = {"attempts": attempts, "last_error": outcome.error}
        if outcome.kind in ("accepted", "duplicate"):
            values.update(
                status="delivered", delivered_at=now, duplicate=outcome.kind == "duplicate"
            )
            result = "delivered"
        elif outcome.kind == "rejected":
            values.update(status="failed")
            result = "failed"
        else:
            when = next_attempt(
                attempts=attempts,
                created_at=row.created_at,
                now=now,
                retry_after=outcome.retry_after,
                horizon=HORIZON,
            )
            values.update(status="pending" if when else "failed", next_attempt_at=when or now)
            result = "retried" if when else "failed"
        if result == "failed":
            log.error("meter event %s failed for good: %s", row.identifier, outcome.error)
        async with self._sessions.begin() as session:
            await session.execute(
                update(UsageExport).where(UsageExport.id == row.id).values(**values)
            )
        return result

    async def counts(self) -> dict[str, int]:
        """Rows per status (for `hub billing export` and readiness of the export)."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(UsageExport.status, func.count()).group_by(UsageExport.status)
            )
            return {status: int(n) for status, n in rows}
