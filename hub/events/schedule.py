"""When to try a failed delivery again: exponential backoff, Retry-After, a 24-hour horizon."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

# Delay after the 1st, 2nd, ... failed attempt (about 5 s, 5 min, 30 min, 2 h, then 6 h).
BACKOFF_S = (5, 5 * 60, 30 * 60, 2 * 3600, 6 * 3600, 6 * 3600, 6 * 3600)
HORIZON = timedelta(hours=24)
# A crashed sender's claim expires after this, and another dispatcher may try again.
LEASE = timedelta(minutes=2)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def next_attempt(
    *,
    attempts: int,
    created_at: datetime,
    now: datetime,
    retry_after: float | None,
    horizon: timedelta = HORIZON,
) -> datetime | None:
    """The time of the next try after `attempts` failures, or None to give up (past the
    horizon; with a horizon longer than the schedule, the last delay repeats)."""
    if attempts > len(BACKOFF_S) and horizon <= HORIZON:
        return None
    delay = float(BACKOFF_S[min(attempts, len(BACKOFF_S)) - 1])
    if retry_after is not None:
        delay = max(delay, retry_after)  # never sooner than the target asked
    when = now + timedelta(seconds=delay)
    if when > created_at + horizon:
        return None
    return when
