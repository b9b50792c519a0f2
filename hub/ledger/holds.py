"""What the ledger hands back: a hold taken on the budget, and a settlement written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hub.ledger.thresholds import CounterLimit

CounterKey = tuple[str, int, str, date]  # scope, scope_id, window, period_start


@dataclass(frozen=True, slots=True)
class Hold:
    """A reservation as the hub keeps it while the request runs. Its ids alone do not name
    it: on PostgreSQL a reservation commits without waiting for the WAL flush, so after a
    server crash the same ids may name another request's hold and another team's counter.
    `request_id` (the reservation row's, unique) says which row is this hold's, and
    `counter_keys` (parallel to `counter_ids`) which counter each id was
    (hub/ledger/settling.py)."""

    id: int
    team_id: int
    counter_ids: tuple[int, ...]
    cost_micros: int
    tokens: int
    limits: tuple[CounterLimit, ...] = ()
    request_id: str | None = None
    counter_keys: tuple[CounterKey, ...] = ()


@dataclass(frozen=True, slots=True)
class Settlement:
    usage_id: int
    thresholds: list[dict[str, object]]
