"""Which parts of a time range the rollups can answer, at which grain, and which need records.

Rollups are per UTC day and per UTC quarter hour (hub/ledger/cubes.py). Totals not grouped by
time (`plan_range`) read whole UTC days from day buckets, the rest from quarter buckets, and
the partial first and last quarters of a range whose ends are not on one (admin API moments)
from `usage_records`.

Rows grouped by local day or hour (`plan_grouped`) are read in pieces of one local group, each
summed by the database over one bounded range scan (the rollups' (team, cube, grain, bucket)
index, the records' (team, created_at) one). Every offset in use is a whole number of quarter
hours (+05:30 Kolkata, +05:45 Kathmandu, -03:30 St John's), so a local hour is four quarter
buckets and a local day a day bucket with some of its quarters moved: a UTC day bucket that
a local midnight cuts is counted whole in the local day most of it belongs to, and its
quarters that belong elsewhere are read again on their own and moved (New York's five hours
before midnight, Kolkata's five and a half after 18:30 UTC). A range's partial first or
last UTC day of at least half a day is read from its day bucket too, the quarters outside
the range taken out (Paris's month ends at 23:00 UTC: one hour of quarters, not 23). Only a
quarter that still holds two groups (an offset change inside it, which no zone has today) is
read from the records, each record to its own group. Rollups being exact sums of their
records, what is moved out is exactly what the bucket counted, and every figure still equals
SUM over `usage_records`
(tests/property/test_dashboard_reconciles.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Literal

HOUR = timedelta(hours=1)
HALF_HOUR = timedelta(minutes=30)
SIX_HOURS = timedelta(hours=6)
DAY = timedelta(days=1)
QUARTER = timedelta(minutes=15)  # the rollups' finest bucket
_QUARTERS_A_DAY = DAY // QUARTER
_TICK = timedelta(microseconds=1)
Grain = Literal["day", "hour"]
Range = tuple[datetime | None, datetime | None]  # [start, end); None: unbounded


@dataclass(frozen=True, slots=True)
class Plan:
    days: list[Range] = field(default_factory=list)  # day-aligned ranges of day buckets
    quarters: list[Range] = field(default_factory=list)  # ranges of quarter-hour buckets
    raw: list[Range] = field(default_factory=list)  # ranges of usage record times
    # Ranges of quarter buckets to take out of the day buckets read (outside the range).
    taken: list[Range] = field(default_factory=list)


def floor_quarter(moment: datetime) -> datetime:
    utc = moment.astimezone(UTC)
    return utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)


def floor_half_hour(moment: datetime) -> datetime:
    utc = moment.astimezone(UTC)
    return utc.replace(minute=utc.minute - utc.minute % 30, second=0, microsecond=0)


def floor_six_hours(moment: datetime) -> datetime:
    utc = moment.astimezone(UTC)
    return utc.replace(hour=utc.hour - utc.hour % 6, minute=0, second=0, microsecond=0)


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floor = floor_hour(moment)
    return floor if floor == moment else floor + HOUR


def ceil_quarter(moment: datetime) -> datetime:
    floor = floor_quarter(moment)
    return floor if floor == moment else floor + QUARTER


def floor_day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


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
    # False: only taken (the part of a day bucket outside the range), never added.
    kept: bool = True


@dataclass(frozen=True, slots=True)
class GroupedPlan:
    days: list[Piece] = field(default_factory=list)  # day buckets
    quarters: list[Piece] = field(default_factory=list)  # quarter-hour buckets
    raw: list[Piece] = field(default_factory=list)  # usage records


# Cached: a page reads the same range three or four times (sums, then each histogram), and a
# month by local day labels some 3,000 quarters. Callers never change a plan's lists.
@lru_cache(maxsize=256)
def plan_grouped(since: datetime, until: datetime, zone: tzinfo, grain: Grain) -> GroupedPlan:
    """[since, until) for rows grouped by local `grain`, in pieces of one group each: a local
    hour is one range of quarter buckets; a local day one day bucket (counted in the local
    day most of its quarters are in) and a range of quarter buckets moved out of it, or
    quarter buckets alone at the ends of the range."""
    plan = GroupedPlan()
    if since >= until:
        return plan
    first, last = ceil_quarter(since), floor_quarter(until)
    if first >= last:
        _records(plan, since, until, zone, grain)
        return plan
    _records(plan, since, first, zone, grain)
    moment = first
    # A range that starts late in a UTC day (New York's local midnight is 05:00 UTC): its
    # day bucket with the quarters before the range taken out, when most of it is in one day.
    if grain == "day" and floor_day(first) < first and _whole_day(plan, floor_day(first),
                                                                 zone, first, last):  # fmt: skip
        moment = floor_day(first) + DAY
    while moment < last:
        if (grain == "day" and moment == floor_day(moment)
                and _whole_day(plan, moment, zone, moment, last)):  # fmt: skip
            moment += DAY
            continue
        _quarter(plan, moment, zone, grain)
        moment += QUARTER
    _records(plan, last, until, zone, grain)
    return plan


def _label(start: datetime, end: datetime, zone: tzinfo, grain: Grain) -> str | None:
    """The local group of all of [start, end), None when it holds two."""
    return group_label(start, grain, zone) if _uncut(start, end, zone, grain) else None


def _whole_day(plan: GroupedPlan, day: datetime, zone: tzinfo, low: datetime,
               high: datetime) -> bool:  # fmt: skip
    """The day bucket counted in the local day most of its quarters in [low, high) are in,
    the others moved out (from quarter buckets; a cut quarter from the records) and those
    outside [low, high) taken out; False when no local day has at least half of them."""
    quarters = [(day + n * QUARTER, _label(day + n * QUARTER, day + (n + 1) * QUARTER, zone,
                                           "day")) for n in range(_QUARTERS_A_DAY)]  # fmt: skip
    found: dict[str, list[datetime]] = {}
    for moment, label in quarters:
        if label is not None and low <= moment < high:
            found.setdefault(label, []).append(moment)
    if not found:
        return False
    counted = max(found, key=lambda name: len(found[name]))  # the first when tied
    if 2 * len(found[counted]) < _QUARTERS_A_DAY:
        return False
    at = found[counted][0]
    _put(plan.days, Piece(day, day + DAY, at), zone, "day")
    for start, label in quarters:
        if not low <= start < high:
            _put(plan.quarters, Piece(start, start + QUARTER, None, at, kept=False), zone, "day")
        elif label == counted:
            continue
        elif label is not None:
            _put(plan.quarters, Piece(start, start + QUARTER, start, at), zone, "day")
        else:
            _put(plan.raw, Piece(start, start + QUARTER, None, at), zone, "day")
    return True


def _quarter(plan: GroupedPlan, start: datetime, zone: tzinfo, grain: Grain) -> None:
    """A quarter bucket counted in its local group; from the records when it holds two."""
    end = start + QUARTER
    if _label(start, end, zone, grain) is not None:
        _put(plan.quarters, Piece(start, end, start), zone, grain)
    else:
        _put(plan.raw, Piece(start, end, None), zone, grain)


def _records(plan: GroupedPlan, start: datetime, end: datetime, zone: tzinfo,
             grain: Grain) -> None:  # fmt: skip
    """[start, end), within one UTC quarter hour, from the records: to its group, or to each
    moment's own when it holds two."""
    if start < end:
        label = _label(start, end, zone, grain)
        _put(plan.raw, Piece(start, end, None if label is None else start), zone, grain)


def _put(pieces: list[Piece], piece: Piece, zone: tzinfo, grain: Grain) -> None:
    """Append `piece`, merged into the last one when they touch and go to (and come from) the
    same groups."""
    last = pieces[-1] if pieces else None
    if (last is not None and last.end == piece.start and last.kept == piece.kept
            and _same(last.add, piece.add, zone, grain)
            and _same(last.take, piece.take, zone, grain)):  # fmt: skip
        pieces[-1] = Piece(last.start, piece.end, last.add, last.take, last.kept)
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
    quarters = [Piece(start, end) for start, end in plan.quarters]
    quarters += [Piece(start, end, None, start, kept=False) for start, end in plan.taken]
    return GroupedPlan([Piece(start, end) for start, end in plan.days], quarters,
                       [Piece(start, end) for start, end in plan.raw])  # fmt: skip


def plan_range(since: datetime | None, until: datetime | None) -> Plan:
    """Split [since, until) between day buckets, quarter buckets and raw records, for totals
    not grouped by time: whole UTC days from days, whole quarters from quarters, the rest
    from records."""
    if since is not None and until is not None and since >= until:
        return Plan()
    first = None if since is None else ceil_quarter(since)
    last = None if until is None else floor_quarter(until)
    if first is not None and last is not None and first >= last:
        return Plan(raw=[(since, until)])
    plan = Plan()
    if since is not None and first is not None and since < first:
        plan.raw.append((since, first))
    day_first = None if first is None else ceil_day(first)
    day_last = None if last is None else floor_day(last)
    raw_from = last
    # A range's partial first or last day of at least half a day (the range going on past
    # it): its day bucket, the quarters outside the range taken out.
    if (first is not None and day_first is not None and day_first - first >= DAY / 2
            and (last is None or day_first <= last)):  # fmt: skip
        plan.taken.append((day_first - DAY, first))
        first = day_first = day_first - DAY
    if (last is not None and day_last is not None and last - day_last >= DAY / 2
            and (first is None or first <= day_last)):  # fmt: skip
        plan.taken.append((last, day_last + DAY))
        last = day_last = day_last + DAY
    if day_first is not None and day_last is not None and day_first >= day_last:
        plan.quarters.append((first, last))
    else:
        if first is not None and day_first is not None and first < day_first:
            plan.quarters.append((first, day_first))
        plan.days.append((day_first, day_last))
        if last is not None and day_last is not None and day_last < last:
            plan.quarters.append((day_last, last))
    if until is not None and raw_from is not None and raw_from < until:
        plan.raw.append((raw_from, until))
    return plan


@lru_cache(maxsize=1 << 16)
def _uncut(start: datetime, end: datetime, zone: tzinfo, grain: Grain) -> bool:
    """Whether every moment of [start, end) has the same local group: the offset is the same
    at both ends (no change inside: zones change at most once in a day) and so is the group."""
    last = end - _TICK
    same_offset = start.astimezone(zone).utcoffset() == last.astimezone(zone).utcoffset()
    return same_offset and group_label(start, grain, zone) == group_label(last, grain, zone)


def whole_hours(pieces: Sequence[Piece], *, timed: bool) -> tuple[list[Piece], list[Piece]]:
    """Pieces of quarter buckets split into the whole UTC hours they hold (for hour buckets)
    and the quarters left at their ends, each part going to (and from) the piece's groups. A
    piece read moment by moment (grouped by time, `add` None) is left whole."""
    return whole_spans(pieces, HOUR, timed=timed)


def whole_spans(
    pieces: Sequence[Piece], step: timedelta, *, timed: bool
) -> tuple[list[Piece], list[Piece]]:
    """Pieces split into the whole UTC spans of `step` (an hour, a half hour: a divisor of a
    day) they hold and what is left at their ends, as `whole_hours`."""
    spans: list[Piece] = []
    rest: list[Piece] = []
    for piece in pieces:
        start, end = piece.start, piece.end
        if start is None or end is None or (timed and piece.add is None and piece.kept):
            rest.append(piece)
            continue
        first, last = _ceil_to(start, step), _floor_to(end, step)
        if first >= last:
            rest.append(piece)
            continue
        spans.append(replace(piece, start=first, end=last))
        rest += [replace(piece, start=a, end=b) for a, b in ((start, first), (last, end))
                 if a < b]  # fmt: skip
    return spans, rest


def rounded_spans(
    pieces: Sequence[Piece], step: timedelta, *, timed: bool
) -> tuple[list[Piece], list[Piece]]:
    """Pieces split into the UTC spans of `step` (a divisor of a day) they cover more than
    half of, each read whole, and the rest: the parts in no such span as they are, and each
    span's part outside the piece negated (read again, added where the span took it and
    taken where the span added it; `negated`). Kolkata's 18:30-24:00 moved to the next local
    day is the six hours 18:00-24:00 moved, and 18:00-18:30 moved back. A piece read moment
    by moment (grouped by time, `add` None) is left whole."""
    spans: list[Piece] = []
    rest: list[Piece] = []
    for piece in pieces:
        start, end = piece.start, piece.end
        if start is None or end is None or (timed and piece.add is None and piece.kept):
            rest.append(piece)
            continue
        block, left = _floor_to(start, step), start  # left: the start of what is not read yet
        while block < end:
            low, high = max(start, block), min(end, block + step)
            if 2 * (high - low) > step:
                if left < low:
                    rest.append(replace(piece, start=left, end=low))
                spans.append(replace(piece, start=block, end=block + step))
                rest += [negated(replace(piece, start=a, end=b))
                         for a, b in ((block, low), (high, block + step)) if a < b]  # fmt: skip
                left = high
            block += step
        if left < end:
            rest.append(replace(piece, start=left, end=end))
    return spans, rest


def negated(piece: Piece) -> Piece:
    """What takes `piece` back out: added to the group it was taken from and taken from the
    one it was added to (a piece not grouped by time is taken as the plan's taken pieces are,
    from its own moment's group)."""
    if piece.kept:
        taken = piece.add if piece.add is not None else piece.start
        return Piece(piece.start, piece.end, piece.take, taken, kept=piece.take is not None)
    return Piece(piece.start, piece.end, piece.take, None)


def _floor_to(moment: datetime, step: timedelta) -> datetime:
    day = floor_day(moment)
    return day + (moment.astimezone(UTC) - day) // step * step


def _ceil_to(moment: datetime, step: timedelta) -> datetime:
    floor = _floor_to(moment, step)
    return floor if floor == moment else floor + step
