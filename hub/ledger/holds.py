"""What the ledger hands back: a hold taken on the budget, and a settlement written."""

from __future__ import annotations

from dataclasses import dataclass

from hub.ledger.thresholds import CounterLimit


@dataclass(frozen=True, slots=True)
class Hold:
    id: int
    team_id: int
    counter_ids: tuple[int, ...]
    cost_micros: int
    tokens: int
    limits: tuple[CounterLimit, ...] = ()


@dataclass(frozen=True, slots=True)
class Settlement:
    usage_id: int
    thresholds: list[dict[str, object]]
