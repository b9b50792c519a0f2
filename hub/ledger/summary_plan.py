"""Which parts of a time range the rollups can answer, at which grain, and which need records.

Rollups are per UTC day and per UTC hour. Totals not grouped by time (`plan_range`) read whole
UTC days from day buckets, the rest from hour buckets, and the partial first and last hours
of a range whose ends are not on a UTC hour (admin API moments) from `usage_records`.

Rows grouped by local day or hour (`plan_grouped`) are read in pieces of one local group, each
summed by the database over one bounded range scan (the rollups' (team, cube, grain, bucket)
index, the records' (team, created_at) one). A bucket that a local boundary cuts is counted
whole in the group most of it belongs to, and the pieces of it that belong elsewhere are read
again on their own and moved: the hours of a UTC day before New York's midnight from hour
buckets, the half hour of Kolkata's (+05:30) midnight hour past it, or the quarter hour of a
Kathmandu (+05:45) hour, from the records. Every offset in use is whole quarter hours; a
quarter hour that still holds two groups is grouped by each record's own time. Rollups being
exact sums of their records, what is moved out is exactly what the bucket counted, and every
figure still equals SUM over `usage_records` (tests/property/test_dashboard_reconciles.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Literal

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Every zone's offset today is a whole number of quarter hours (+05:30, +05:45, +12:45), so a
# local day or hour begins on a UTC quarter hour.
QUARTER = timedelta(minutes=15)
_TICK = timedelta(microseconds=1)
Grain = Literal["day", "hour"]
Range = tuple[datetime | None, datetime | None]  # [start, end); None: unbounded


@dataclass(frozen=True, slots=True)
class Plan:
    days: list[Range] = field(default_factory=list)  # day-aligned ranges of day buckets
    hours: list[Range] = field(default_factory=list)  # hour-aligned ranges of hour buckets
    raw: list[Range] = field(default_factory=list)  # ranges of usage record times


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floor = floor_hour(moment)
    return floor if floor == moment else floor + HOUR


def floor_day(moment: datetime) -> datetime:
    return floor_hour(moment).replace(hour=0)


def ceil_day(moment: datetime) -> datetime:
    floor = floor_day(moment)
    return floor if floor == moment else floor + DAY


def local_days(first: date, last: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The UTC range covering the local dates `first` to `last` inclusive. A local midnight
    that does not exist (a DST gap at 00:00) resolves to the moment the day begins."""
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


# Cached: a plan asks for the same hours' labels many times, and each row of a read asks for
# its piece's (tzinfo conversions were a third of a Kolkata models page's Python time).
@lru_cache(maxsize=1 << 16)
def group_label(moment: datetime, grain: Grain, zone: tzinfo) -> str:
    """The local day (`2026-03-08`) or hour (`2026-11-01T01:00:00-04:00`, the offset telling
    the two 01:00s of a DST fall-back apart) a moment belongs to."""
    local = moment.astimezone(zone)
    if grain == "day":
        return local.date().isoformat()
    return local.replace(minute=0, second=0, microsecond=0).isoformat()


@dataclass(frozen=True, slots=True)
class Piece:
    """[start, end) of one table, summed as one and added to the local group of the moment
    `add` (None: to each moment's own group, for a range holding several). A bucket counted
    whole in one group may hold a piece of another: that piece is then read on its own too,
    added to its group and taken from the bucket's (that of the moment `take`). Rollups are
    exact sums of records, so what is taken is exactly what the bucket counted there."""

    start: datetime | None
    end: datetime | None
    add: datetime | None = None
    take: datetime | None = None


@dataclass(frozen=True, slots=True)
class GroupedPlan:
    days: list[Piece] = field(default_factory=list)  # day buckets
    hours: list[Piece] = field(default_factory=list)  # hour buckets
    raw: list[Piece] = field(default_factory=list)  # usage records


def plan_grouped(since: datetime, until: datetime, zone: tzinfo, grain: Grain) -> GroupedPlan:
    """[since, until) for rows grouped by local `grain`, in pieces of one group each. A UTC
    day (or hour) bucket that a local boundary cuts is still read whole when most of it is in
    one group, counted there, and its other pieces are moved out of it: the hours before a
    local midnight in New York (5 or 4) from hour buckets, the half hour past a local midnight
    in Kolkata (or the quarter hour before a local hour in Kathmandu) from the records. So a
    local day costs one day bucket and a few hour buckets (in Kolkata also half an hour of
    records), and a local hour in Kolkata one hour bucket and half an hour of records."""
    plan = GroupedPlan()
    if since >= until:
        return plan
    first, last = ceil_hour(since), floor_hour(until)
    if first >= last:
        _quarters(plan, since, until, zone, grain)
        return plan
    _quarters(plan, since, first, zone, grain)
    moment = first
    while moment < last:
        if (grain == "day" and moment == floor_day(moment) and moment + DAY <= last
                and _whole_day(plan, moment, zone)):  # fmt: skip
            moment += DAY
            continue
        _hour(plan, moment, zone, grain)
        moment += HOUR
    _quarters(plan, last, until, zone, grain)
    return plan


def _label(start: datetime, end: datetime, zone: tzinfo, grain: Grain) -> str | None:
    """The local group of all of [start, end), None when it holds two."""
    return group_label(start, grain, zone) if _uncut(start, end, zone, grain) else None


def _most(steps: list[tuple[datetime, str | None]]) -> tuple[datetime, str, int] | None:
    """The group most of these steps are in (the first when tied): a moment of it, its label
    and how many steps; None when none is in one group."""
    found: dict[str, list[datetime]] = {}
    for moment, label in steps:
        if label is not None:
            found.setdefault(label, []).append(moment)
    if not found:
        return None
    label = max(found, key=lambda name: len(found[name]))
    return found[label][0], label, len(found[label])


def _whole_day(plan: GroupedPlan, day: datetime, zone: tzinfo) -> bool:
    """The day bucket counted in the local day most of its hours are in, the others moved out
    (hours from hour buckets, a cut hour's quarters from the records); False when no local
    day has most of its hours."""
    hours = [(day + n * HOUR, _label(day + n * HOUR, day + (n + 1) * HOUR, zone, "day"))
             for n in range(24)]  # fmt: skip
    most = _most(hours)
    if most is None or most[2] < 12:
        return False
    at, label, _ = most
    _put(plan.days, Piece(day, day + DAY, at), zone, "day")
    for start, hour_label in hours:
        if hour_label == label:
            continue
        if hour_label is not None:
            _put(plan.hours, Piece(start, start + HOUR, start, at), zone, "day")
        else:
            _moved_quarters(plan, start, zone, "day", label, at)
    return True


def _hour(plan: GroupedPlan, start: datetime, zone: tzinfo, grain: Grain) -> None:
    """An hour bucket counted in its local group, or in the one most of its quarters are in
    with the others moved out from the records; all from the records when none is."""
    end = start + HOUR
    if _label(start, end, zone, grain) is not None:
        _put(plan.hours, Piece(start, end, start), zone, grain)
        return
    quarters = [(start + n * QUARTER, _label(start + n * QUARTER, start + (n + 1) * QUARTER,
                                             zone, grain)) for n in range(4)]  # fmt: skip
    most = _most(quarters)
    if most is None:
        _quarters(plan, start, end, zone, grain)
        return
    at, label, _ = most
    _put(plan.hours, Piece(start, end, at), zone, grain)
    _moved_quarters(plan, start, zone, grain, label, at)


def _moved_quarters(
    plan: GroupedPlan, hour: datetime, zone: tzinfo, grain: Grain, counted: str, at: datetime
) -> None:
    """The quarters of this hour bucket not in the group `counted` (a moment of it: `at`),
    from the records, moved out of it."""
    for n in range(4):
        start = hour + n * QUARTER
        label = _label(start, start + QUARTER, zone, grain)
        if label != counted:
            add = None if label is None else start
            _put(plan.raw, Piece(start, start + QUARTER, add, at), zone, grain)


def _quarters(plan: GroupedPlan, start: datetime, end: datetime, zone: tzinfo,
              grain: Grain) -> None:  # fmt: skip
    """[start, end) from the records, in UTC quarter hours, each to its group (or, holding
    two, to each moment's own)."""
    moment = start
    while moment < end:
        midnight = floor_day(moment)
        nxt = min(midnight + ((moment - midnight) // QUARTER + 1) * QUARTER, end)
        label = _label(moment, nxt, zone, grain)
        _put(plan.raw, Piece(moment, nxt, None if label is None else moment), zone, grain)
        moment = nxt


def _put(pieces: list[Piece], piece: Piece, zone: tzinfo, grain: Grain) -> None:
    """Append `piece`, merged into the last one when they touch and go to (and come from) the
    same groups."""
    last = pieces[-1] if pieces else None
    if (last is not None and last.end == piece.start and _same(last.add, piece.add, zone, grain)
            and _same(last.take, piece.take, zone, grain)):  # fmt: skip
        pieces[-1] = Piece(last.start, piece.end, last.add, last.take)
    else:
        pieces.append(piece)


def _same(a: datetime | None, b: datetime | None, zone: tzinfo, grain: Grain) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return group_label(a, grain, zone) == group_label(b, grain, zone)


def plan_pieces(
    since: datetime | None, until: datetime | None, zone: tzinfo, grain: Grain | None
) -> GroupedPlan:
    """What a read sums: `plan_grouped` when rows are grouped by local time (both ends then
    given), else the ranges of `plan_range`, each a piece."""
    if grain is not None:
        if since is None or until is None:
            raise ValueError("grouping by time needs both ends of the range")
        return plan_grouped(since, until, zone, grain)
    plan = plan_range(since, until)
    return GroupedPlan(*([Piece(start, end) for start, end in ranges]
                         for ranges in (plan.days, plan.hours, plan.raw)))  # fmt: skip


def plan_range(since: datetime | None, until: datetime | None) -> Plan:
    """Split [since, until) between day buckets, hour buckets and raw records, for totals not
    grouped by time: whole UTC days from days, whole hours from hours, the rest from records."""
    if since is not None and until is not None and since >= until:
        return Plan()
    first = None if since is None else ceil_hour(since)
    last = None if until is None else floor_hour(until)
    if first is not None and last is not None and first >= last:
        return Plan(raw=[(since, until)])
    plan = Plan()
    if since is not None and first is not None and since < first:
        plan.raw.append((since, first))
    day_first = None if first is None else ceil_day(first)
    day_last = None if last is None else floor_day(last)
    if day_first is not None and day_last is not None and day_first >= day_last:
        plan.hours.append((first, last))
    else:
        if first is not None and day_first is not None and first < day_first:
            plan.hours.append((first, day_first))
        plan.days.append((day_first, day_last))
        if last is not None and day_last is not None and day_last < last:
            plan.hours.append((day_last, last))
    if until is not None and last is not None and last < until:
        _extend(plan.raw, last, until)
    return plan


@lru_cache(maxsize=1 << 16)
def _uncut(start: datetime, end: datetime, zone: tzinfo, grain: Grain) -> bool:
    """Whether every moment of [start, end) has the same local group: the offset is the same
    at both ends (no change inside: zones change at most once in a day) and so is the group."""
    last = end - _TICK
    same_offset = start.astimezone(zone).utcoffset() == last.astimezone(zone).utcoffset()
    return same_offset and group_label(start, grain, zone) == group_label(last, grain, zone)


def _extend(ranges: list[Range], start: datetime, end: datetime) -> None:
    """Append [start, end), merged into the last range when they touch."""
    if ranges and ranges[-1][1] == start:
        ranges[-1] = (ranges[-1][0], end)
    else:
        ranges.append((start, end))
