"""What a reservation job carries and what a refusal answers (hub/ledger/reserving.py and
its SQLite batch, hub/ledger/reserve_sqlite.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.ledger.counters import CounterState
from hub.ledger.quotas import QuotaLimit
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
