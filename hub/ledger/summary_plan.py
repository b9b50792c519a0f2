"""Which parts of a time range the rollups can answer, at which grain, and which need records.

Rollups are per UTC day and per UTC hour. Whole UTC days inside the range are read from day
buckets, the rest from hour buckets. A range whose ends are not on a UTC hour (admin API
moments; local midnights in zones such as Asia/Kolkata +05:30 or Asia/Kathmandu +05:45) reads
its partial first and last hours from `usage_records`. When rows are grouped by local day or
hour, a bucket that a local boundary cuts (or that holds an offset change) cannot be split:
a cut day is read by hours, and a cut hour from the records. For day grouping that means hour
buckets in any zone but UTC, plus one hour a day from the records in a +05:30 zone; for hour
grouping in such a zone, records for the whole range. Whole-hour zones, DST changes included,
are answered from rollups alone.

A grouped read then cuts its ranges into pieces of one local group each (`pieces`): every
piece is one bounded range scan (on the rollups' (team, cube, grain, bucket) index, or the
records' (team, created_at) one) summed by the database under the piece's label, so a cut
hour costs the records of that hour only, and a local day of 24 hour buckets comes back as
one row per group, not 24.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
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


def group_label(moment: datetime, grain: Grain, zone: tzinfo) -> str:
    """The local day (`2026-03-08`) or hour (`2026-11-01T01:00:00-04:00`, the offset telling
    the two 01:00s of a DST fall-back apart) a moment belongs to."""
    local = moment.astimezone(zone)
    if grain == "day":
        return local.date().isoformat()
    return local.replace(minute=0, second=0, microsecond=0).isoformat()


@dataclass(frozen=True, slots=True)
class Piece:
    """[start, end) of one local group (`label`), or of several (None: group each moment)."""

    start: datetime
    end: datetime
    label: str | None


def pieces(ranges: list[Range], zone: tzinfo, grain: Grain, step: timedelta) -> list[Piece]:
    """Ranges (bounded) cut where the local group changes, walking UTC-aligned steps (a day
    or an hour for buckets, a quarter hour for records); adjacent steps of one group merge.
    A step that holds two groups (an offset that is not whole quarter hours, or an offset
    change inside it) becomes a piece without a label."""
    found: list[Piece] = []
    for start, end in ranges:
        if start is None or end is None:
            raise ValueError("grouping by time needs both ends of the range")
        moment = start
        while moment < end:
            nxt = min(_next_step(moment, step), end)
            label = group_label(moment, grain, zone) if _uncut(moment, nxt, zone, grain) else None
            last = found[-1] if found else None
            if last is not None and last.end == moment and last.label == label:
                found[-1] = Piece(last.start, nxt, label)
            else:
                found.append(Piece(moment, nxt, label))
            moment = nxt
    return found


def _next_step(moment: datetime, step: timedelta) -> datetime:
    """The first UTC multiple of `step` (a day, an hour, a quarter hour) after `moment`."""
    utc = moment.astimezone(UTC)
    if step >= DAY:
        return floor_day(utc) + DAY
    midnight = floor_day(utc)
    done = (utc - midnight) // step
    return midnight + (done + 1) * step


def plan_range(
    since: datetime | None, until: datetime | None, zone: tzinfo, grain: Grain | None
) -> Plan:
    """Split [since, until) between day buckets, hour buckets and raw records (see the
    module's doc). With a grain, both ends must be given."""
    if since is not None and until is not None and since >= until:
        return Plan()
    first = None if since is None else ceil_hour(since)
    last = None if until is None else floor_hour(until)
    if first is not None and last is not None and first >= last:
        return Plan(raw=[(since, until)])
    plan = Plan()
    if since is not None and first is not None and since < first:
        plan.raw.append((since, first))
    if grain is None:
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
    else:
        if first is None or last is None:
            raise ValueError("grouping by time needs both ends of the range")
        _split_cut(plan, first, last, zone, grain)
    if until is not None and last is not None and last < until:
        _extend(plan.raw, last, until)
    return plan


def _split_cut(plan: Plan, first: datetime, last: datetime, zone: tzinfo, grain: Grain) -> None:
    """[first, last) hour-aligned, by bucket: a day when no local group boundary cuts it, else
    its hours when none cuts them, else the records."""
    moment = first
    while moment < last:
        day_end = moment + DAY
        if moment == floor_day(moment) and day_end <= last and _uncut(moment, day_end, zone, grain):
            _extend(plan.days, moment, day_end)
            moment = day_end
            continue
        end = moment + HOUR
        _extend(plan.hours if _uncut(moment, end, zone, grain) else plan.raw, moment, end)
        moment = end


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
