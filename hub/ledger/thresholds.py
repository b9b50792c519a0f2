"""Budget thresholds (80% and 100%): announced once per scope, window, period and metric."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.ledger.money import micros_to_usd
from hub.ledger.periods import resets_at
from hub.model import Caller
from hub.store.event_tables import BudgetAlert

THRESHOLDS = (80, 100)
_FIRST_TIME = {
    "postgresql": pg_insert(BudgetAlert).on_conflict_do_nothing(),
    "sqlite": sqlite_insert(BudgetAlert).on_conflict_do_nothing(),
}


@dataclass(frozen=True, slots=True)
class CounterLimit:
    """A counter a request moved, with the limits that applied when it was reserved."""

    counter_id: int
    scope: str
    scope_id: int
    window: str
    period_start: date
    cost_limit_micros: int | None
    token_limit: int | None


def crosses(before: int, after: int, ceiling: int, percent: int) -> bool:
    """`before` < `percent`% of `ceiling` <= `after`, in integers (no float near money; the
    one-statement settle, hub/ledger/settle_pg.py, asks the same in SQL)."""
    return before * 100 < ceiling * percent <= after * 100


def crossed_thresholds(
    conn: Connection,
    *,
    caller: Caller,
    limits: Sequence[CounterLimit],
    spent_after: Mapping[int, tuple[int, int]],
    added: tuple[int, int],
    now: datetime,
) -> list[dict[str, object]]:
    """The `budget.threshold` events this settle crossed for the first time in their period
    (each noted, so it fires once): their data, for the caller to emit."""
    announced: list[dict[str, object]] = []
    for limit in limits:
        cost_after, tokens_after = spent_after[limit.counter_id]
        for metric, ceiling, new, delta in (
            ("cost", limit.cost_limit_micros, cost_after, added[0]),
            ("tokens", limit.token_limit, tokens_after, added[1]),
        ):
            if not ceiling:
                continue
            for percent in THRESHOLDS:
                if not crosses(new - delta, new, ceiling, percent):
                    continue
                if not _first_time(conn, limit, metric, percent, now):
                    continue
                announced.append(
                    {
                        "team": caller.team_name,
                        "scope": limit.scope,
                        "scope_id": limit.scope_id,
                        "window": limit.window,
                        "period": limit.period_start.isoformat(),
                        "metric": metric,
                        "threshold_percent": percent,
                        "limit": micros_to_usd(ceiling) if metric == "cost" else ceiling,
                        "used": micros_to_usd(new) if metric == "cost" else new,
                        "resets_at": resets_at(limit.window, now).isoformat(),
                    }
                )
    return announced


def _first_time(
    conn: Connection, limit: CounterLimit, metric: str, percent: int, now: datetime
) -> bool:
    statement = _FIRST_TIME["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
    result = conn.execute(
        statement,
        {
            "scope": limit.scope,
            "scope_id": limit.scope_id,
            "window": limit.window,
            "period": limit.period_start.isoformat(),
            "metric": metric,
            "threshold": percent,
            "created_at": now,
        },
    )
    return bool(result.rowcount)
