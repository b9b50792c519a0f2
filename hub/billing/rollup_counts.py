"""The open month's billable token counts from the quarter-hour rollups (rollups.py in
hub/ledger), for estimates: a few rows per quarter hour and deployment, however many records
the month has.

Each (quarter, alias, deployment) row is priced at the price in force in that quarter, which
is the price of each of its records wherever the price did not change inside it; a quarter
in which it did (an import effective mid-quarter) is read record by record, as invoices are.
Equal to the per-record counts as long as each record's cached and cache-write tokens are
within its prompt and its reasoning within its completion (what providers report, and what
hub.model.Usage says), since the token split is then linear in the sums. Invoices still read
the records (usage_counts.py), which stay the authority."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.billing.invoice_math import PricedCount
from hub.billing.plans import PlanSpan
from hub.billing.price_book import PriceBook
from hub.billing.token_prices import split_counts
from hub.billing.usage_counts import RECORDED_COST, priced_counts, span_of
from hub.ledger.cubes import QUARTER_GRAIN
from hub.ledger.summary_plan import QUARTER, floor_quarter
from hub.store.rollup_tables import UsageRollup


async def rollup_priced_counts(
    sessions: async_sessionmaker[AsyncSession],
    book: PriceBook,
    *,
    team_id: int,
    spans: Sequence[PlanSpan],
    since: datetime,
    until: datetime,
) -> list[PricedCount]:
    """What priced_counts gives for [since, until), `since` on a whole quarter hour and `until` no
    earlier than the team's last record (the open month up to now)."""
    r = UsageRollup
    query = (
        select(
            r.bucket,
            r.alias,
            r.deployment,
            func.sum(r.prompt_tokens),
            func.sum(r.completion_tokens),
            func.sum(r.cached_tokens),
            func.sum(r.cache_write_tokens),
            func.sum(r.reasoning_tokens),
            func.sum(r.cost_micros),
        )
        .where(
            r.cube == "model",
            r.grain == QUARTER_GRAIN,
            r.team_id == team_id,
            r.bucket >= floor_quarter(since),
            r.bucket < until,
        )
        .group_by(r.bucket, r.alias, r.deployment)
    )
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    totals: dict[tuple[int, str, str, int], int] = {}

    def add(key: tuple[int, str, str, int], quantity: int) -> None:
        totals[key] = totals.get(key, 0) + quantity

    # Quarters in which a row's price changed are read record by record, every row of them.
    unsteady = {
        bucket for bucket, _, label, *_ in rows if not book.steady(label, bucket, bucket + QUARTER)
    }
    for bucket, alias, label, prompt, completion, cached, write, reasoning, cost in rows:
        if bucket in unsteady:
            continue
        span = span_of(spans, bucket)
        prices = book.label_prices(label, bucket)
        if prices is None:
            if cost:  # one line per model at the cost the ledger recorded (usage_counts.py)
                add((span, alias, RECORDED_COST, int(cost) * 1_000_000), 1)
            continue
        counts = split_counts(
            prompt=int(prompt),
            completion=int(completion),
            cached=int(cached),
            cache_write=int(write),
            reasoning=int(reasoning),
        )
        for kind, quantity in counts.items():
            if quantity:
                add((span, alias, kind, prices.of(kind)), quantity)
    for bucket in sorted(unsteady):
        for c in await priced_counts(
            sessions,
            book,
            team_id=team_id,
            spans=spans,
            since=bucket,
            until=min(bucket + QUARTER, until),
        ):
            add((c.span, c.model, c.token_type, c.micros_per_mtok), c.quantity)
    return [PricedCount(s, m, t, p, q) for (s, m, t, p), q in totals.items()]
