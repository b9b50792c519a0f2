"""Rows grouped by local hour from quarter-hour buckets, grouped by the database.

A read grouped by hour is a piece per local hour (hub/ledger/summary_plan.py): over eight
days, 192 arms of a UNION ALL that SQLAlchemy builds and the database parses on every view.
Within a span of one UTC offset a local hour is the UTC quarter shifted by the offset and
cut to the hour, so the database can group by it: one arm per span of one offset (two when
the range holds a DST change), whatever its length. Each row's earliest bucket names its
local hour (`group_label`), so the groups are the ones the pieces would have made."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, literal_column

from hub.ledger.summary_plan import QUARTER, Piece


@dataclass(frozen=True, slots=True)
class Span:
    start: datetime
    end: datetime
    minutes: int  # the zone's UTC offset throughout [start, end)


def hour_spans(pieces: Sequence[Piece], zone: tzinfo) -> tuple[list[Span], list[Piece]]:
    """The pieces that are whole local hours (added to their hour, taken from none), as
    spans of one offset; and the others, read piece by piece."""
    spans: list[Span] = []
    rest: list[Piece] = []
    for piece in pieces:
        offset = None if piece.start is None else piece.start.astimezone(zone).utcoffset()
        if (piece.add is None or piece.take is not None or piece.start is None
                or piece.end is None or offset is None or offset % QUARTER):  # fmt: skip
            rest.append(piece)
            continue
        minutes = offset // timedelta(minutes=1)
        last = spans[-1] if spans else None
        if last is not None and last.end == piece.start and last.minutes == minutes:
            spans[-1] = Span(last.start, piece.end, minutes)
        else:
            spans.append(Span(piece.start, piece.end, minutes))
    return spans, rest


def local_hour(time: Any, minutes: int, dialect: str) -> Any:
    """The local hour of a UTC time column, `minutes` ahead of UTC, as the database names it
    (only ever compared with itself). A zone a whole number of hours from UTC has the same
    hours as UTC, only named otherwise: its rows are grouped by the UTC hour, which the
    database cuts from the column without date arithmetic (SQLite's strftime with a
    modifier was half of a 9-day channel-by-hour read's 200 ms)."""
    if minutes % 60 == 0:
        if dialect == "postgresql":
            return func.date_trunc("hour", func.timezone("UTC", time))
        # SQLAlchemy keeps SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff', in UTC here.
        return func.substr(time, 1, 13)
    if dialect == "postgresql":
        shifted = func.timezone("UTC", time) + literal_column(f"interval '{minutes} minutes'")
        return func.date_trunc("hour", shifted)
    return func.strftime("%Y-%m-%d %H", time, f"{minutes:+d} minutes")
