"""Reserve, as the ledger writer runs it: every hold of a batch in one transaction.

Each request's hold goes on every counter that applies (sorted: one lock order), each with
one upsert that only adds where the limit has room (hub/ledger/counters.py). A request that
does not fit somewhere gives back what it took on the counters before, in the same
transaction, so it holds nothing, and the others of the batch are not disturbed. The
admitted requests' reservation rows are then inserted in one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, insert

from hub.ledger.counters import CounterState, Move, hold_on, move_counters, read_counter
from hub.ledger.holds import Hold
from hub.ledger.periods import period_start
from hub.ledger.precompiled import Precompiled, insert_returning_ids
from hub.ledger.quotas import QuotaLimit
from hub.ledger.thresholds import CounterLimit
from hub.ledger.writer import Tx
from hub.model import Caller
from hub.store.ledger_tables import Reservation

_RESERVATIONS = cast(Table, Reservation.__table__)
_INSERT = insert(_RESERVATIONS).returning(_RESERVATIONS.c.id, sort_by_parameter_order=True)
_INSERT_ONE = Precompiled(insert(_RESERVATIONS).returning(_RESERVATIONS.c.id))
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


class Reserve:
    """The writer's group for reservations (hub/ledger/writer.py)."""

    def write(self, tx: Tx, items: Sequence[ReserveItem]) -> list[Hold | Refused]:
        taken: list[tuple[int, ReserveItem, tuple[int, ...], tuple[CounterLimit, ...]]] = []
        outcomes: list[Hold | Refused | None] = []
        for index, item in enumerate(items):
            held = _hold(tx, item)
            if isinstance(held, Refused):
                outcomes.append(held)
                continue
            outcomes.append(None)
            taken.append((index, item, *held))
        if taken:
            rows = [
                {
                    "team_id": item.caller.team_id,
                    "counter_ids": ",".join(map(str, ids)),
                    "cost_micros": item.cost_micros,
                    "tokens": item.tokens,
                    "created_at": item.now,
                    "instance_id": item.instance_id,
                    "request_id": item.request_id,
                    "context": item.context,
                }
                for _, item, ids, _ in taken
            ]
            hold_ids = insert_returning_ids(tx.conn, _INSERT, _INSERT_ONE, rows)
            for (index, item, ids, limits), hold_id in zip(taken, hold_ids, strict=True):
                outcomes[index] = Hold(
                    hold_id, item.caller.team_id, ids, item.cost_micros, item.tokens, limits
                )
        return [outcome for outcome in outcomes if outcome is not None]


RESERVE = Reserve()


def _hold(tx: Tx, item: ReserveItem) -> tuple[tuple[int, ...], tuple[CounterLimit, ...]] | Refused:
    counter_ids: list[int] = []
    limits: list[CounterLimit] = []
    for (scope, scope_id, window), quota in item.tracked:
        start: date = period_start(window, item.now)
        key = (scope, scope_id, window, start)
        counter_id = hold_on(tx.conn, key, quota, item.cost_micros, item.tokens)
        if counter_id is None:
            assert quota is not None  # only a limit refuses
            # Give back what this request took on the counters before this one.
            move_counters(
                tx.conn,
                {
                    c: Move(release_cost=item.cost_micros, release_tokens=item.tokens)
                    for c in counter_ids
                },
            )
            return Refused(scope, window, quota, read_counter(tx.conn, key))
        counter_ids.append(counter_id)
        if quota is not None:
            limits.append(
                CounterLimit(
                    counter_id=counter_id,
                    scope=scope,
                    scope_id=scope_id,
                    window=window,
                    period_start=start,
                    cost_limit_micros=quota.cost_limit_micros,
                    token_limit=quota.token_limit,
                )
            )
    return tuple(sorted(counter_ids)), tuple(limits)
