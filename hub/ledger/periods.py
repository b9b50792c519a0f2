"""UTC calendar windows: when a day or month started and when it resets."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

Window = Literal["day", "month"]
WINDOWS: tuple[Window, ...] = ("day", "month")


def period_start(window: str, now: datetime) -> date:
    today = now.astimezone(UTC).date()
    return today if window == "day" else today.replace(day=1)


def resets_at(window: str, now: datetime) -> datetime:
    start = period_start(window, now)
    if window == "day":
        nxt = start + timedelta(days=1)
    else:
        nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime.combine(nxt, time(0), tzinfo=UTC)


def describe_reset(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
