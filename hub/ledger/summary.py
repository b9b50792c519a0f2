"""Usage summaries from the rollups: filters, group-by on any dimension, local time.

Every report (`hub usage`, Slack and Discord `/usage`, the admin API, the dashboard) reads
here, so they agree with each other and with `SUM` over `usage_records` to the micro-dollar.
A query reads the smallest cube that keeps its dimensions (hub/ledger/cubes.py), day buckets
for whole UTC days and quarter-hour buckets for the rest; only what `summary_plan` cannot
answer from buckets (the partial quarters at the ends of an admin API window) is read from
the records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal, get_args

from sqlalchemy import and_, case, func, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from hub.ledger.cubes import HOUR_GRAIN, HOURLY_CUBES, QUARTER_GRAIN, cube_for, hourly_cube_for
from hub.ledger.summary_hours import Span, hour_spans, local_hour
from hub.ledger.summary_plan import (
    QUARTER,
    Grain,
    Piece,
    floor_hour,
    group_label,
    plan_pieces,
    whole_hours,
)
from hub.ledger.usage_totals import UsageTotals
from hub.store.ledger_tables import UsageRecord
from hub.store.rollup_tables import UsageRollup

Dimension = Literal[
    "team",
    "member",
    "key",
    "user",
    "model",
    "deployment",
    "connector",
    "slack_workspace",
    "slack_channel",
    "discord_guild",
    "discord_channel",
    "status",
    "day",
    "hour",
]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)
ERROR_STATUSES = ("error", "partial", "interrupted")
GroupValue = str | int | None
# SQLite allows 500 arms in a compound SELECT (SQLITE_MAX_COMPOUND_SELECT).
_ARMS_PER_QUERY = 200


@dataclass(frozen=True, slots=True)
class UsageFilter:
    """Only the usage that matches every given field."""

    team_id: int | None = None
    member_id: int | None = None
    key_id: int | None = None
    user: str | None = None  # the platform's user id
    model: str | None = None  # the alias
    deployment: str | None = None
    connector: str | None = None
    slack_workspace: str | None = None
    slack_channel: str | None = None
    discord_guild: str | None = None
    discord_channel: str | None = None
    status: str | None = None


EVERYTHING = UsageFilter()


@dataclass(frozen=True, slots=True)
class SummaryRow:
    group: tuple[GroupValue, ...]  # one value per `group_by` dimension; None: none
    totals: UsageTotals


@dataclass(frozen=True, slots=True)
class UsageSummary:
    group_by: tuple[Dimension, ...]
    rows: list[SummaryRow] = field(default_factory=list)
    total: UsageTotals = UsageTotals()


async def summarize(
    session: AsyncSession,
    *,
    since: datetime | None,
    until: datetime | None,
    zone: tzinfo = UTC,
    where: UsageFilter = EVERYTHING,
    group_by: Sequence[Dimension] = (),
) -> UsageSummary:
    """Totals of [since, until) (None: unbounded), grouped; `day`/`hour` are local to `zone`."""
    group_by = tuple(group_by)
    unknown = [d for d in group_by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension {unknown[0]!r}")
    grains = [d for d in group_by if d in ("day", "hour")]
    grain: Grain | None = "hour" if "hour" in grains else ("day" if grains else None)
    if grain is not None and (since is None or until is None):
        since, until = await _bounded(session, since, until, where)
        if since is None or until is None:
            return UsageSummary(group_by)
    plan = plan_pieces(since, until, zone, grain)
    columns = columns_needed(where, group_by)
    cube = cube_for(columns)
    found: dict[tuple[GroupValue, ...], UsageTotals] = {}
    parts = [
        (ROLLUPS, plan.days, (cube, "day")),
        (ROLLUPS, plan.quarters, (cube, QUARTER_GRAIN)),
        (RECORDS, plan.raw, None),
    ]
    hourly = hourly_cube_for(columns)
    if hourly is not None and grain != "hour":
        # The whole UTC hours of the quarter pieces (a local day's moved part: Kolkata's
        # 18:30-24:00 is five hour buckets and two quarters, not 22 quarters) from a cube
        # that keeps hours; local hours have their own path (_Source._hours).
        hours, quarters = whole_hours(plan.quarters, timed=grain is not None)
        parts[1:2] = [(ROLLUPS, hours, (hourly, HOUR_GRAIN)),
                      (ROLLUPS, quarters, (cube, QUARTER_GRAIN))]  # fmt: skip
    for source, pieces, bucket in parts:
        for key, totals in await source.read(session, pieces, where, group_by, zone, bucket):
            found[key] = found[key] + totals if key in found else totals
    # A group a bucket counted and a moved piece took back out entirely is no group.
    nothing = UsageTotals()
    rows = [SummaryRow(key, found[key]) for key in sorted(found, key=_order)
            if found[key] != nothing]  # fmt: skip
    total = sum((row.totals for row in rows), UsageTotals())
    return UsageSummary(group_by, rows, total)


# The rollup columns each dimension (and filter) reads.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "team": ("team_id",),
    "member": ("member_id",),
    "key": ("key_id",),
    "user": ("connector", "user"),
    "model": ("alias",),
    "deployment": ("deployment",),
    "connector": ("connector",),
    "slack_workspace": ("connector", "workspace"),
    "slack_channel": ("connector", "channel"),
    "discord_guild": ("connector", "workspace"),
    "discord_channel": ("connector", "channel"),
    "status": ("status",),
    "day": (),
    "hour": (),
    "team_id": ("team_id",),
    "member_id": ("member_id",),
    "key_id": ("key_id",),
}


def columns_needed(where: UsageFilter, group_by: tuple[Dimension, ...]) -> set[str]:
    named = [f.name for f in fields(where) if getattr(where, f.name) is not None]
    return {column for name in (*named, *group_by) for column in _COLUMNS[name]}


def _order(key: tuple[GroupValue, ...]) -> tuple[tuple[bool, int, str], ...]:
    return tuple(
        (v is None, v if isinstance(v, int) else 0, "" if v is None else str(v)) for v in key
    )


async def _bounded(
    session: AsyncSession, since: datetime | None, until: datetime | None, where: UsageFilter
) -> tuple[datetime | None, datetime | None]:
    """Open ends made finite by the rollups' first and last quarter (for time grouping)."""
    query = select(func.min(UsageRollup.bucket), func.max(UsageRollup.bucket)).where(
        UsageRollup.cube == "model", UsageRollup.grain == QUARTER_GRAIN
    )
    if where.team_id is not None:
        query = query.where(UsageRollup.team_id == where.team_id)
    first, last = (await session.execute(query)).one()
    if first is None:
        return None, None
    return since or first, until or last + QUARTER


class _Source:
    """One table the summary reads: the rollups, or the usage records themselves."""

    def __init__(self, table: Any, time: Any, *, rollup: bool) -> None:
        self.table = table
        self.time = time
        self.rollup = rollup
        c = table
        slack, discord = c.connector == "slack", c.connector == "discord"
        self.columns: dict[str, tuple[Any, ...]] = {
            "team": (c.team_id,),
            "member": (c.member_id,),
            "key": (c.key_id,),
            "user": (c.connector, c.user),
            "model": (c.alias,),
            "deployment": (c.deployment,),
            "connector": (c.connector,),
            "slack_workspace": (case((slack, c.workspace), else_=None),),
            "slack_channel": (case((slack, c.channel), else_=None),),
            "discord_guild": (case((discord, c.workspace), else_=None),),
            "discord_channel": (case((discord, c.channel), else_=None),),
            "status": (c.status,),
        }
        errors = c.status.in_(ERROR_STATUSES)
        if rollup:
            n = c.requests
            self.sums: tuple[Any, ...] = (
                func.sum(n),
                func.sum(c.prompt_tokens),
                func.sum(c.completion_tokens),
                func.sum(c.cost_micros),
                func.sum(case((c.status == "cached", n), else_=0)),
                func.sum(c.saved_micros),
                func.sum(c.cached_tokens),
                func.sum(c.reasoning_tokens),
                func.sum(c.cache_write_tokens),
                func.sum(case((errors, n), else_=0)),
                func.sum(c.latency_ms),
                func.sum(c.ttft_ms),
                func.sum(c.ttft_requests),
            )
        else:
            self.sums = (
                func.count(c.id),
                func.sum(c.prompt_tokens),
                func.sum(c.completion_tokens),
                func.sum(c.cost_micros),
                func.sum(case((c.status == "cached", 1), else_=0)),
                func.sum(c.saved_micros),
                func.sum(c.cached_tokens),
                func.sum(c.reasoning_tokens),
                func.sum(c.cache_write_tokens),
                func.sum(case((errors, 1), else_=0)),
                func.sum(c.latency_ms),
                func.sum(func.coalesce(c.ttft_ms, 0)),
                func.count(c.ttft_ms),
            )

    def conditions(self, where: UsageFilter) -> list[Any]:
        c = self.table
        found: list[Any] = []
        simple = {
            "team_id": c.team_id,
            "member_id": c.member_id,
            "key_id": c.key_id,
            "user": c.user,
            "model": c.alias,
            "deployment": c.deployment,
            "connector": c.connector,
            "status": c.status,
        }
        for name, column in simple.items():
            value = getattr(where, name)
            if value is not None:
                found.append(column == value)
        placed = {
            "slack_workspace": ("slack", c.workspace),
            "slack_channel": ("slack", c.channel),
            "discord_guild": ("discord", c.workspace),
            "discord_channel": ("discord", c.channel),
        }
        for name, (connector, column) in placed.items():
            value = getattr(where, name)
            if value is not None:
                found.append(and_(c.connector == connector, column == value))
        return found

    def bounds(self, start: datetime | None, end: datetime | None) -> list[Any]:
        found = []
        if start is not None:
            found.append(self.time >= start)
        if end is not None:
            found.append(self.time < end)
        return found

    async def read(
        self,
        session: AsyncSession,
        pieces: Sequence[Piece],
        where: UsageFilter,
        group_by: tuple[Dimension, ...],
        zone: tzinfo,
        bucket: tuple[str, str] | None,
    ) -> list[tuple[tuple[GroupValue, ...], UsageTotals]]:
        """The sums over these pieces (summary_plan.Piece), grouped; `bucket` (cube, grain)
        for rollups. Each piece is its own arm of a UNION ALL: a bounded range scan on the
        table's time index (an OR of ranges would make the database scan the team's whole
        history), summed by the database."""
        if not pieces:
            return []
        timed = any(d in ("day", "hour") for d in group_by)
        keys: list[Any] = [col for d in group_by if d in self.columns for col in self.columns[d]]
        conditions = self.conditions(where)
        out: list[tuple[tuple[GroupValue, ...], UsageTotals]] = []
        if bucket is not None and "hour" in group_by:
            spans, pieces = hour_spans(pieces, zone)
            hourly = bucket[1] == QUARTER_GRAIN and bucket[0] in HOURLY_CUBES
            out += await self._hours(session, spans, keys,
                                     [*conditions, self.table.cube == bucket[0]],
                                     bucket[1], group_by, zone, hourly=hourly)  # fmt: skip
        if bucket is not None:
            conditions += [self.table.cube == bucket[0], self.table.grain == bucket[1]]
        labelled = [p for p in pieces if not timed or p.add is not None or not p.kept]
        for first in range(0, len(labelled), _ARMS_PER_QUERY):
            chunk = labelled[first : first + _ARMS_PER_QUERY]
            selects = []
            for n, piece in enumerate(chunk):
                arm = select(literal_column(str(n)).label("piece"), *keys, *self.sums).where(
                    *self.bounds(piece.start, piece.end), *conditions
                )
                selects.append(arm.group_by(*keys) if keys else arm)
            query = selects[0] if len(selects) == 1 else union_all(*selects)
            for row in await session.execute(query):
                values = list(row)
                piece = chunk[int(values.pop(0))]
                if piece.kept:
                    out += self._row(values, len(keys), group_by, piece.add, zone)
                if piece.take is not None:  # moved out of the bucket that counted it
                    out += self._row(values, len(keys), group_by, piece.take, zone, sign=-1)
        # A quarter hour that holds two groups (an offset change inside it): each moment's own.
        for piece in pieces:
            if timed and piece.add is None and piece.kept:
                query = select(*keys, self.time, *self.sums).where(
                    *self.bounds(piece.start, piece.end), *conditions
                )
                for row in await session.execute(query.group_by(*keys, self.time)):
                    values = list(row)
                    moment = values.pop(len(keys))
                    out += self._row(values, len(keys), group_by, moment, zone)
                    if piece.take is not None:
                        out += self._row(values, len(keys), group_by, piece.take, zone, sign=-1)
        return out

    async def _hours(
        self, session: AsyncSession, spans: list[Span], keys: list[Any], conditions: list[Any],
        grain: str, group_by: tuple[Dimension, ...], zone: tzinfo, *, hourly: bool = False,
    ) -> list[tuple[tuple[GroupValue, ...], UsageTotals]]:  # fmt: skip
        """Spans of whole local hours, grouped by local hour in the database
        (hub/ledger/summary_hours.py): one arm per span of one UTC offset, from `grain`'s
        buckets; `hourly` (the cube keeps UTC hours too): a span a whole number of hours from
        UTC, its local hours being UTC hours, from the hour buckets (a fourth of the rows)."""
        if not spans:
            return []
        dialect = session.get_bind().dialect.name
        selects = []
        for span in spans:
            hour = local_hour(self.time, span.minutes, dialect)
            whole = (hourly and span.minutes % 60 == 0 and floor_hour(span.start) == span.start
                     and floor_hour(span.end) == span.end)  # fmt: skip
            selects.append(
                select(hour, func.min(self.time), *keys, *self.sums)
                .where(*self.bounds(span.start, span.end), *conditions,
                       self.table.grain == (HOUR_GRAIN if whole else grain))
                .group_by(hour, *keys)
            )  # fmt: skip
        query = selects[0] if len(selects) == 1 else union_all(*selects)
        out = []
        for row in await session.execute(query):
            values = list(row)[1:]
            moment = values.pop(0)
            out += self._row(values, len(keys), group_by, moment, zone)
        return out

    def _row(
        self, values: list[Any], width: int, group_by: tuple[Dimension, ...],
        moment: datetime | None, zone: tzinfo, *, sign: int = 1,
    ) -> list[tuple[tuple[GroupValue, ...], UsageTotals]]:  # fmt: skip
        """One result row (the group's columns, then the sums) as (group, totals times
        `sign`), `moment` in its local day or hour; none for an empty aggregate (no group:
        one row of NULLs)."""
        sums, values = values[width:], list(values[:width])
        if sums[0] is None or int(sums[0]) == 0:
            return []
        key: list[GroupValue] = []
        for dimension in group_by:
            if dimension in ("day", "hour"):
                assert moment is not None
                key.append(group_label(moment, dimension, zone))
            elif dimension == "user":
                connector, user = values.pop(0), values.pop(0)
                key.append(f"{connector}:{user}" if user else None)
            else:
                key.append(_absent_as_none(values.pop(0)))
        numbers = [int(v) if v else 0 for v in sums]
        return [(tuple(key), UsageTotals(*(numbers if sign == 1 else [-n for n in numbers])))]


def _absent_as_none(value: Any) -> GroupValue:
    """Rollups store absent ids and names as 0 and ""; records as NULL."""
    if value is None or value == 0 or value == "":
        return None
    return int(value) if isinstance(value, int) else str(value)


ROLLUPS = _Source(UsageRollup.__table__.c, UsageRollup.__table__.c.bucket, rollup=True)
RECORDS = _Source(UsageRecord.__table__.c, UsageRecord.__table__.c.created_at, rollup=False)
