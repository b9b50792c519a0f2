"""Latency and time-to-first-token histograms from the measure cubes, for percentiles.

The same plan as a summary (hub/ledger/summary_plan.py): day buckets for whole UTC days,
quarter-hour buckets for the rest, the records themselves only for what a bucket cannot
split. The bins of every part are added, and the percentile is read from the merged histogram
(hub/ledger/latency_bins.py), so p95 over a month is one small `GROUP BY bin`, never a scan.
A latency or TTFT read that needs no dimension but the team and the deployment (the models
page, the overview) reads the leaner per-deployment cube (hub/ledger/cubes.py): its day
buckets; its six-hour buckets for the UTC quarters of six hours a piece covers more than
half of, the rest of those six hours read again and moved back (Kolkata's 18:30-24:00 moved
to the next local day is 18:00-24:00 moved and 18:00-18:30 moved back: two buckets, not
seven); its hours and half hours for the whole ones left; only quarters left after that (a
45-minute zone's) come from the full cube's quarter buckets. A coarser row is the sum of its
quarters, and what is moved back is exactly what the six hours moved, so the histogram is
the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal

from sqlalchemy import and_, case, func, literal_column, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from hub.ledger.cubes import (
    DEPLOYMENT_CUBES,
    DEPLOYMENT_DIMENSIONS,
    HALF_GRAIN,
    HOUR_GRAIN,
    MEASURE_DIMENSIONS,
    QUARTER_GRAIN,
    SIX_HOUR_GRAIN,
)
from hub.ledger.latency_bins import Histogram, sql_bin
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
from hub.ledger.summary_plan import (
    HALF_HOUR,
    SIX_HOURS,
    Grain,
    Piece,
    group_label,
    plan_pieces,
    rounded_spans,
    whole_hours,
    whole_spans,
)
from hub.store.ledger_tables import UsageRecord

# "failover" has two bins: 0, answered by the deployment tried first; 1, failed over from it
# (grouped and filtered by that first deployment).
Measure = Literal["latency", "ttft", "failover"]
MEASURES: tuple[Measure, ...] = ("latency", "ttft", "failover")
_ARMS_PER_QUERY = 200  # SQLite allows 500 arms in a compound SELECT


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
    plan = plan_pieces(since, until, zone, grain)
    found: dict[tuple[GroupValue, ...], dict[int, int]] = {}
    parts: list[tuple[list[Piece], str, str | None]] = [
        (plan.days, measure, "day"),
        (plan.quarters, measure, QUARTER_GRAIN),
        (plan.raw, measure, None),
    ]
    lean = DEPLOYMENT_CUBES.get(measure)
    if lean is not None and columns_needed(where, group_by) <= DEPLOYMENT_DIMENSIONS:
        timed = grain is not None
        sixes, rest = rounded_spans(plan.quarters, SIX_HOURS, timed=timed)
        hours, rest = whole_hours(rest, timed=timed)
        halves, quarters = whole_spans(rest, HALF_HOUR, timed=timed)
        parts[:2] = [(plan.days, lean, "day"), (sixes, lean, SIX_HOUR_GRAIN),
                     (hours, lean, HOUR_GRAIN), (halves, lean, HALF_GRAIN),
                     (quarters, measure, QUARTER_GRAIN)]  # fmt: skip
    for pieces, cube, bucket_grain in parts:
        for key, index, count in await _read(
            session, measure, cube, pieces, where, group_by, zone, bucket_grain
        ):
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
    cube: str,
    pieces: Sequence[Piece],
    where: UsageFilter,
    group_by: tuple[Dimension, ...],
    zone: tzinfo,
    grain: str | None,
) -> list[tuple[tuple[GroupValue, ...], int, int]]:
    """(group, bin, requests) over these pieces: from rollups (`grain`), else records; one
    UNION ALL arm per piece, as summaries read (hub/ledger/summary.py); a moved piece's
    counts are also taken from the group that counted it (negative)."""
    if not pieces:
        return []
    source = RECORDS if grain is None else ROLLUPS
    c = source.table
    timed = any(d in ("day", "hour") for d in group_by)
    keys: list[Any] = [col for d in group_by if d in source.columns for col in source.columns[d]]
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
        count: Any = func.count()
        conditions.append(first.is_not(None))
    elif grain is None:
        column = c.latency_ms if measure == "latency" else c.ttft_ms
        conditions.append(column.is_not(None))
        # Binned by the database (a few rows a piece), not one row per distinct latency.
        value = literal_column(sql_bin(f"{UsageRecord.__tablename__}.{column.name}"))
        count = func.count()
    else:
        value, count = c.bin, func.sum(c.requests)
        conditions += [c.cube == cube, c.grain == grain]
    labelled = [p for p in pieces if not timed or p.add is not None or not p.kept]
    key_of = _Keys(group_by, zone).key
    width = len(keys)
    # (group, bin, requests): the bin is a bin already (or failover's 0/1).
    out: list[tuple[tuple[GroupValue, ...], int, int]] = []
    for first_arm in range(0, len(labelled), _ARMS_PER_QUERY):
        chunk = labelled[first_arm : first_arm + _ARMS_PER_QUERY]
        selects = [
            select(literal_column(str(n)).label("piece"), *keys, value, count)
            .where(*source.bounds(piece.start, piece.end), *conditions)
            .group_by(*keys, value)
            for n, piece in enumerate(chunk)
        ]
        query = selects[0] if len(selects) == 1 else union_all(*selects)
        moves = [_moves(piece) for piece in chunk]
        for row in await session.execute(query):
            n = int(row[-1] or 0)
            if n:
                values, measured = tuple(row[1 : 1 + width]), int(row[-2] or 0)
                for moment, sign in moves[int(row[0])]:
                    out.append((key_of(values, moment), measured, sign * n))
    for piece in pieces:  # a quarter hour holding two groups: each moment's own
        if timed and piece.add is None and piece.kept:
            query = (
                select(*keys, source.time, value, count)
                .where(*source.bounds(piece.start, piece.end), *conditions)
                .group_by(*keys, source.time, value)
            )
            for row in await session.execute(query):
                n = int(row[-1] or 0)
                if n:
                    values, measured = tuple(row[:width]), int(row[-2] or 0)
                    out.append((key_of(values, row[width]), measured, n))
                    if piece.take is not None:
                        out.append((key_of(values, piece.take), measured, -n))
    return out


def _moves(piece: Piece) -> list[tuple[datetime | None, int]]:
    """Where a piece's counts go: added to its group (kept), taken from the bucket's (take)."""
    found: list[tuple[datetime | None, int]] = [(piece.add, 1)] if piece.kept else []
    if piece.take is not None:
        found.append((piece.take, -1))
    return found


class _Keys:
    """A row's group: its key columns (absent values as None) and the local day or hour of
    the moment it goes to, in `group_by`'s order; remembered, since a read's rows share a
    few hundred groups (a month by day: one group per day for ~1,000 rows)."""

    def __init__(self, group_by: tuple[Dimension, ...], zone: tzinfo) -> None:
        self._group_by, self._zone = group_by, zone
        self._known: dict[tuple[tuple[Any, ...], datetime | None], tuple[GroupValue, ...]] = {}

    def key(self, values: tuple[Any, ...], moment: datetime | None) -> tuple[GroupValue, ...]:
        found = self._known.get((values, moment))
        if found is None:
            found = self._known[values, moment] = self._make(values, moment)
        return found

    def _make(self, values: tuple[Any, ...], moment: datetime | None) -> tuple[GroupValue, ...]:
        columns = iter(values)
        key: list[GroupValue] = []
        for dimension in self._group_by:
            if dimension in ("day", "hour"):
                assert moment is not None
                key.append(group_label(moment, "day" if dimension == "day" else "hour",
                                       self._zone))  # fmt: skip
            else:
                raw = next(columns)
                key.append(None if raw in (None, 0, "") else raw)
        return tuple(key)
