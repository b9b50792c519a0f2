"""The ledger's usage records as billable token counts, each at the price in force when the
record was made (invoices, estimates and reconciliation all read usage through here)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.billing.invoice_math import PricedCount
from hub.billing.plans import PlanSpan
from hub.billing.price_book import PriceBook
from hub.billing.token_prices import TokenType, split_counts
from hub.store.ledger_tables import UsageRecord

# Records of a deployment the book cannot price any more (removed from the config and absent
# from the catalog) are billed at the cost the ledger recorded, as one line per model.
RECORDED_COST = "recorded_cost"


@dataclass(frozen=True, slots=True)
class RecordCount:
    usage_id: int
    created_at: datetime
    model: str
    token_type: TokenType | str
    quantity: int
    micros_per_mtok: int


async def record_counts(
    sessions: async_sessionmaker[AsyncSession],
    book: PriceBook,
    *,
    team_id: int,
    since: datetime,
    until: datetime,
) -> AsyncIterator[RecordCount]:
    """Every non-zero token count of the team's records in [since, until)."""
    query = (
        select(
            UsageRecord.id,
            UsageRecord.created_at,
            UsageRecord.alias,
            UsageRecord.deployment,
            UsageRecord.prompt_tokens,
            UsageRecord.completion_tokens,
            UsageRecord.cached_tokens,
            UsageRecord.cache_write_tokens,
            UsageRecord.reasoning_tokens,
            UsageRecord.cost_micros,
        )
        .where(
            UsageRecord.team_id == team_id,
            UsageRecord.created_at >= since,
            UsageRecord.created_at < until,
        )
        .order_by(UsageRecord.id)
    )
    async with sessions() as session:
        rows = await session.stream(query.execution_options(yield_per=1000))
        async for row in rows:
            (
                usage_id,
                created,
                alias,
                label,
                prompt,
                completion,
                cached,
                write,
                reasoning,
                cost,
            ) = row
            counts = split_counts(
                prompt=prompt,
                completion=completion,
                cached=cached,
                cache_write=write,
                reasoning=reasoning,
            )
            prices = book.label_prices(label, created)
            if prices is None:
                if cost:
                    yield RecordCount(usage_id, created, alias, RECORDED_COST, 1, cost * 1_000_000)
                continue
            for kind, quantity in counts.items():
                if quantity:
                    yield RecordCount(usage_id, created, alias, kind, quantity, prices.of(kind))


def span_of(spans: Sequence[PlanSpan], moment: datetime) -> int:
    day = moment.date()
    for index, span in enumerate(spans):
        if span.first <= day <= span.last:
            return index
    return len(spans) - 1


async def priced_counts(
    sessions: async_sessionmaker[AsyncSession],
    book: PriceBook,
    *,
    team_id: int,
    spans: Sequence[PlanSpan],
    since: datetime,
    until: datetime,
) -> list[PricedCount]:
    """Token counts summed per (span, model, token type, unit price)."""
    totals: dict[tuple[int, str, str, int], int] = {}
    async for c in record_counts(sessions, book, team_id=team_id, since=since, until=until):
        key = (span_of(spans, c.created_at), c.model, str(c.token_type), c.micros_per_mtok)
        totals[key] = totals.get(key, 0) + c.quantity
    return [PricedCount(s, m, t, p, q) for (s, m, t, p), q in totals.items()]
