"""What a reservation job carries and what a refusal answers (hub/ledger/reserving.py and
its SQLite batch, hub/ledger/reserve_sqlite.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from hub.ledger.counters import CounterState
from hub.ledger.holds import CounterKey, Hold
from hub.ledger.quotas import QuotaLimit
from hub.ledger.thresholds import CounterLimit
from hub.model import Caller

Tracked = tuple[tuple[tuple[str, int, str], QuotaLimit | None], ...]


@dataclass(frozen=True, slots=True)
class ReserveItem:
    caller: Caller
    cost_micros: int
    tokens: int
    tracked: Tracked  # every counter the request moves, sorted, with its quota if any
    now: datetime
    instance_id: str | None
    request_id: str | None
    context: str | None


@dataclass(frozen=True, slots=True)
class Refused:
    """The request did not fit this counter's limit (it holds nothing)."""

    scope: str
    window: str
    quota: QuotaLimit
    counter: CounterState | None


# What a hold says of its counters: its limits (its counters with a quota, in `tracked`
# order), and its counters' ids and keys, sorted by id.
HoldShape = tuple[tuple[CounterLimit, ...], tuple[int, ...], tuple[CounterKey, ...]]


def counter_limit(counter_id: int, key: CounterKey, quota: QuotaLimit) -> CounterLimit:
    scope, scope_id, window, start = key
    return CounterLimit(
        counter_id=counter_id,
        scope=scope,
        scope_id=scope_id,
        window=window,
        period_start=start,
        cost_limit_micros=quota.cost_limit_micros,
        token_limit=quota.token_limit,
    )


def hold_shape(
    limits: Iterable[CounterLimit], taken: Iterable[tuple[int, CounterKey]]
) -> HoldShape:
    """The shape of a hold with these limits that took these counters (id, key)."""
    ordered = sorted(taken)
    return tuple(limits), tuple(c for c, _ in ordered), tuple(key for _, key in ordered)


def made(item: ReserveItem, hold_id: int, shape: HoldShape) -> Hold:
    """The hold a reservation row `hold_id` of `item` is, with this shape."""
    limits, counter_ids, counter_keys = shape
    return Hold(
        hold_id,
        item.caller.team_id,
        counter_ids,
        item.cost_micros,
        item.tokens,
        limits,
        request_id=item.request_id,
        counter_keys=counter_keys,
    )
