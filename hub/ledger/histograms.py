"""Latency and time-to-first-token histograms from the measure cubes, for percentiles.

The same plan as a summary (hub/ledger/summary_plan.py): day buckets for whole UTC days, hour
buckets for the rest, the records themselves only for what a bucket cannot split. The bins
of every part are added, and the percentile is read from the merged histogram
(hub/ledger/latency_bins.py), so p95 over a month is one small `GROUP BY bin`, never a scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.ledger.cubes import MEASURE_DIMENSIONS
from hub.ledger.latency_bins import Histogram, bin_of
from hub.ledger.summary import (
    DIMENSIONS,
    EVERYTHING,
    RECORDS,
    ROLLUPS,
    Dimension,
    GroupValue,
    UsageFilter,
    columns_needed,
)
from hub.ledger.summary_plan import Grain, Range, group_label, plan_range

# "failover" has two bins: 0, answered by the deployment tried first; 1, failed over from it
# (grouped and filtered by that first deployment).
Measure = Literal["latency", "ttft", "failover"]
MEASURES: tuple[Measure, ...] = ("latency", "ttft", "failover")
_RANGES_PER_QUERY = 200


def histogram_dimensions() -> tuple[Dimension, ...]:
    """The dimensions percentiles can be grouped and filtered by."""
    return tuple(d for d in DIMENSIONS if columns_needed(EVERYTHING, (d,)) <= MEASURE_DIMENSIONS)


async def read_histograms(
    session: AsyncSession,
    *,
    measure: Measure,
    since: datetime | None,
    until: datetime | None,
    zone: tzinfo = UTC,
    where: UsageFilter = EVERYTHING,
    group_by: Sequence[Dimension] = (),
) -> dict[tuple[GroupValue, ...], Histogram]:
    """The histogram of `measure` over [since, until) for each group."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    group_by = tuple(group_by)
    missing = columns_needed(where, group_by) - MEASURE_DIMENSIONS
    if missing:
        raise ValueError(f"percentiles cannot be split by {sorted(missing)[0]!r}")
    grains = [d for d in group_by if d in ("day", "hour")]
    grain: Grain | None = "hour" if "hour" in grains else ("day" if grains else None)
    plan = plan_range(since, until, zone, grain)
    found: dict[tuple[GroupValue, ...], dict[int, int]] = {}
    parts: tuple[tuple[list[Range], str | None], ...] = (
        (plan.days, "day"),
        (plan.hours, "hour"),
        (plan.raw, None),
    )
    for ranges, bucket_grain in parts:
        for start in range(0, len(ranges), _RANGES_PER_QUERY):
            chunk = ranges[start : start + _RANGES_PER_QUERY]
            rows = await _read(session, measure, chunk, where, group_by, zone, bucket_grain)
            for key, index, count in rows:
                counts = found.setdefault(key, {})
                counts[index] = counts.get(index, 0) + count
    return {
        key: Histogram({i: n for i, n in counts.items() if n})
        for key, counts in found.items()
        if any(counts.values())
    }


async def _read(
    session: AsyncSession,
    measure: Measure,
    ranges: Sequence[Range],
    where: UsageFilter,
    group_by: tuple[Dimension, ...],
    zone: tzinfo,
    grain: str | None,
) -> list[tuple[tuple[GroupValue, ...], int, int]]:
    """(group, bin, requests) over these ranges: from rollups (`grain`), else records."""
    if not ranges:
        return []
    source = RECORDS if grain is None else ROLLUPS
    c = source.table
    timed = any(d in ("day", "hour") for d in group_by)
    keys: list[Any] = [col for d in group_by if d in source.columns for col in source.columns[d]]
    if timed:
        keys.append(source.time)
    conditions = source.conditions(where)
    if grain is None and measure == "failover":
        first = func.coalesce(c.first_deployment, c.deployment)
        if "deployment" in group_by:  # grouped by the deployment tried first
            keys[keys.index(c.deployment)] = first
        if where.deployment is not None:
            conditions = source.conditions(replace(where, deployment=None))
            conditions.append(first == where.deployment)
        value: Any = case((and_(c.first_deployment.is_not(None), or_(
            c.deployment.is_(None), c.first_deployment != c.deployment)), 1), else_=0)  # fmt: skip
        query = select(*keys, value, func.count()).where(first.is_not(None))
        query = query.group_by(*keys, value)
    elif grain is None:
        value = c.latency_ms if measure == "latency" else c.ttft_ms
        query = select(*keys, value, func.count()).where(value.is_not(None))
        query = query.group_by(*keys, value)
    else:
        query = select(*keys, c.bin, func.sum(c.requests)).where(
            c.cube == measure, c.grain == grain
        )
        query = query.group_by(*keys, c.bin)
    query = query.where(source.within(ranges), *conditions)
    out: list[tuple[tuple[GroupValue, ...], int, int]] = []
    for row in await session.execute(query):
        values = list(row)
        count, measured = int(values.pop() or 0), int(values.pop() or 0)
        if count == 0:
            continue
        moment = values.pop() if timed else None
        key: list[GroupValue] = []
        for dimension in group_by:
            if dimension in ("day", "hour"):
                assert moment is not None
                key.append(group_label(moment, "day" if dimension == "day" else "hour", zone))
            else:
                raw = values.pop(0)
                key.append(None if raw in (None, 0, "") else raw)
        index = bin_of(measured) if grain is None and measure != "failover" else measured
        out.append((tuple(key), index, count))
    return out
