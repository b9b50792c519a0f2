"""Model performance figures: latency and time-to-first-token percentiles from the rollups'
histograms, error rates, output tokens per second and cost per 1,000 requests, per deployment
and per day. Everything is read from rollups (sums and bins), never by scanning requests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from connectors.dashboard.i18n import Numbers
from hub.ledger.latency_bins import EMPTY, RELATIVE_ERROR, Histogram, format_ms
from hub.ledger.summary import Dimension, GroupValue, UsageFilter
from hub.ledger.usage_totals import UsageTotals
from hub.service import Hub

# What the page says about the percentiles' precision (hub/ledger/latency_bins.py).
RESOLUTION = f"±{RELATIVE_ERROR:.1%}"
PERCENTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}
ENGLISH = Numbers("en")


@dataclass(frozen=True, slots=True)
class Latencies:
    latency: Histogram
    ttft: Histogram

    def figures(self) -> dict[str, int | None]:
        """`latency_p50`, `ttft_p95`, ...: milliseconds, None without requests."""
        found: dict[str, int | None] = {}
        for name, fraction in PERCENTILES.items():
            found[f"latency_{name}"] = self.latency.percentile(fraction)
            found[f"ttft_{name}"] = self.ttft.percentile(fraction)
        return found


async def latencies(
    hub: Hub,
    *,
    since: datetime | None,
    until: datetime | None,
    zone: tzinfo,
    where: UsageFilter,
    group_by: tuple[Dimension, ...] = (),
) -> dict[tuple[GroupValue, ...], Latencies]:
    """Both histograms for each group (a group without a first token has an empty TTFT one),
    read at the same time (each on its own connection: the database works on both at once)."""
    latency, ttft = await asyncio.gather(*(
        hub.usage.histograms(measure, since=since, until=until, zone=zone, where=where,
                             group_by=group_by)
        for measure in ("latency", "ttft")
    ))  # fmt: skip
    return {key: Latencies(latency.get(key, EMPTY), ttft.get(key, EMPTY))
            for key in set(latency) | set(ttft)}  # fmt: skip


milliseconds = format_ms  # the dashboard's name for it


def performance(
    totals: UsageTotals, measured: Latencies | None, *, numbers: Numbers = ENGLISH
) -> dict[str, Any]:
    """A deployment's (or a day's) figures, each also as the text the page shows (in the
    language of `numbers`)."""
    figures: dict[str, Any] = {"requests": totals.requests, "errors": totals.errors}
    figures["error_rate"] = (
        numbers.percent(totals.errors / totals.requests) if totals.requests else "–"
    )
    for name, value in (measured or Latencies(EMPTY, EMPTY)).figures().items():
        figures[name] = value
        figures[f"{name}_text"] = numbers.ms(value)
    generating_s = (totals.latency_ms - totals.ttft_ms) / 1000
    figures["tokens_per_s"] = (
        numbers.decimal(totals.completion_tokens / generating_s) if generating_s > 0 else "–"
    )
    figures["per_1k"] = (
        numbers.usd(totals.cost_micros * 1000 // totals.requests) if totals.requests else "–"
    )
    figures["cost"] = numbers.usd(totals.cost_micros)
    return figures
