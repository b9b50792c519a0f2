"""Does what was exported equal the ledger? Per team and month, both valued the same way
(every token at the provider price in force when it was used, summed exactly and rounded to
the micro-dollar once), so the difference is 0 exactly when the export has caught up.

Only teams with a payment-platform customer are compared, from the month they were mapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.billing.invoice_math import month_bounds, round_micros
from hub.billing.price_book import PriceBook
from hub.billing.usage_counts import record_counts
from hub.ledger.money import micros_to_usd
from hub.store.billing_tables import BillingAccount, UsageExport
from hub.store.ledger_tables import Team


@dataclass(frozen=True, slots=True)
class Reconciliation:
    team: str
    ledger_micros: int
    exported_micros: int
    ledger_tokens: int
    exported_tokens: int
    pending_events: int
    failed_events: int

    @property
    def difference_micros(self) -> int:
        return self.ledger_micros - self.exported_micros

    def as_json(self) -> dict[str, object]:
        return {
            "team": self.team,
            "ledger_usd": micros_to_usd(self.ledger_micros),
            "exported_usd": micros_to_usd(self.exported_micros),
            "difference_usd": micros_to_usd(self.difference_micros),
            "ledger_tokens": self.ledger_tokens,
            "exported_tokens": self.exported_tokens,
            "pending_events": self.pending_events,
            "failed_events": self.failed_events,
        }


async def reconcile(
    sessions: async_sessionmaker[AsyncSession],
    book: PriceBook,
    *,
    period: str,
    team_id: int | None = None,
) -> list[Reconciliation]:
    first, last = month_bounds(period)
    start = datetime.combine(first, time(0), tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
    query = (
        select(BillingAccount, Team)
        .join(Team, Team.id == BillingAccount.team_id)
        .where(BillingAccount.stripe_customer_id.is_not(None))
        .order_by(Team.name)
    )
    if team_id is not None:
        query = query.where(Team.id == team_id)
    async with sessions() as session:
        accounts = list(await session.execute(query))
    results = []
    for account, team in accounts:
        since = start
        if account.export_from is not None:
            since = max(start, datetime.combine(account.export_from, time(0), tzinfo=UTC))
        async with sessions() as session:
            exports = {
                (row.usage_id, row.token_type): row.status
                for row in await session.scalars(
                    select(UsageExport).where(
                        UsageExport.team_id == team.id,
                        UsageExport.usage_created_at >= start,
                        UsageExport.usage_created_at < end,
                    )
                )
            }
        ledger = exported = Decimal(0)
        ledger_tokens = exported_tokens = 0
        async for c in record_counts(sessions, book, team_id=team.id, since=since, until=end):
            amount = Decimal(c.quantity) * c.micros_per_mtok / 1_000_000
            ledger += amount
            ledger_tokens += c.quantity
            if exports.get((c.usage_id, str(c.token_type))) == "delivered":
                exported += amount
                exported_tokens += c.quantity
        statuses = list(exports.values())
        results.append(
            Reconciliation(
                team=team.name,
                ledger_micros=round_micros(ledger),
                exported_micros=round_micros(exported),
                ledger_tokens=ledger_tokens,
                exported_tokens=exported_tokens,
                pending_events=statuses.count("pending"),
                failed_events=statuses.count("failed"),
            )
        )
    return results
