"""Reserve on SQLite: a batch's holds decided in Python against each counter read once, then
one write per counter and one INSERT for every reservation row.

A batch's transaction holds SQLite's one write lock from its BEGIN IMMEDIATE to its COMMIT
(hub/ledger/sqlite_writer.py `driver_transaction`), so no other connection or process changes a
counter in between: the counters the batch's requests move are read once each, the requests are
taken in the batch's order exactly as the per-request upserts (hub/ledger/counters.py
`hold_on`) would take them one after the other (a request holds on every counter it tracks, in
its sorted order, only while each limit has room; one that does not fit somewhere holds
nothing, and its refusal reports the refusing counter as the requests before it left it), and
each counter then gets the sum of its admitted holds in one upsert. At concurrency 16 a batch
of eight requests of one team made eight upserts of the same counter; now one read and one
upsert. The reservation rows go in one multi-row INSERT (hub/ledger/multirow.py).

PostgreSQL keeps its own statements (hub/ledger/reserving.py): there, other processes'
transactions write the same counters concurrently, and each upsert's condition is what
keeps them within the limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection, Table, insert

from hub.ledger.counters import CounterState, has_room, hold_on, read_counter_row
from hub.ledger.holds import CounterKey, Hold
from hub.ledger.multirow import MultiRow
from hub.ledger.periods import period_start
from hub.ledger.quotas import QuotaLimit
from hub.ledger.reserve_items import (
    HoldShape,
    Refused,
    ReserveItem,
    Tracked,
    counter_limit,
    hold_shape,
    made,
)
from hub.store.ledger_tables import Reservation

_RESERVATIONS = cast(Table, Reservation.__table__)
_ROW_COLUMNS = (
    "team_id",
    "counter_ids",
    "cost_micros",
    "tokens",
    "created_at",
    "instance_id",
    "request_id",
    "context",
)
# Returning each row's request id too: a multi-row RETURNING promises no order.
_INSERT_ROWS = MultiRow(
    lambda rows: (
        insert(_RESERVATIONS).values(rows).returning(_RESERVATIONS.c.id, _RESERVATIONS.c.request_id)
    ),
    _ROW_COLUMNS,
)


@dataclass(slots=True)
class _Counter:
    """A counter as the batch's requests so far leave it; `exists`: it has a row (or will)."""

    exists: bool
    id: int | None = None
    cost_spent: int = 0
    cost_reserved: int = 0
    tokens_spent: int = 0
    tokens_reserved: int = 0
    add_cost: int = 0  # the batch's admitted holds, written at the end
    add_tokens: int = 0
    held: bool = False  # some admitted request of the batch holds on it

    def fits(self, quota: QuotaLimit, cost: int, tokens: int) -> bool:
        """Whether `hold_on`'s upsert would take the hold here now (hub/ledger/counters.py):
        a new counter starts empty; an existing one takes it only while spent + reserved +
        the hold stays within each limit (and only a hold that fits an empty one)."""
        if not has_room(quota, cost, tokens):
            return False
        used = (self.cost_spent + self.cost_reserved, self.tokens_spent + self.tokens_reserved)
        return not self.exists or has_room(quota, cost, tokens, used)

    def hold(self, cost: int, tokens: int) -> None:
        self.exists = self.held = True
        self.cost_reserved += cost
        self.tokens_reserved += tokens
        self.add_cost += cost
        self.add_tokens += tokens

    def state(self) -> CounterState | None:
        """As `read_counter` would read it now (None: no row)."""
        if not self.exists:
            return None
        return CounterState(
            self.cost_spent, self.cost_reserved, self.tokens_spent, self.tokens_reserved
        )


def _read(conn: Connection, key: CounterKey) -> _Counter:
    found = read_counter_row(conn, key)
    if found is None:
        return _Counter(exists=False)
    counter_id, state = found
    return _Counter(
        True,
        counter_id,
        state.cost_spent_micros,
        state.cost_reserved_micros,
        state.tokens_spent,
        state.tokens_reserved,
    )


def reserve_batch(conn: Connection, items: Sequence[ReserveItem]) -> list[Hold | Refused]:
    """Every item's hold (or refusal), in order, inside the batch's transaction."""
    counters: dict[CounterKey, _Counter] = {}
    decided: list[tuple[ReserveItem, list[CounterKey]] | Refused] = []
    for item in items:
        keys: list[CounterKey] = []
        refused: Refused | None = None
        for (scope, scope_id, window), quota in item.tracked:
            key = (scope, scope_id, window, period_start(window, item.now))
            counter = counters.get(key)
            if counter is None:
                counter = counters[key] = _read(conn, key)
            if quota is not None and not counter.fits(quota, item.cost_micros, item.tokens):
                refused = Refused(scope, window, quota, counter.state())
                break
            keys.append(key)
        if refused is not None:
            decided.append(refused)  # it took nothing: nothing to give back
            continue
        for key in keys:
            counters[key].hold(item.cost_micros, item.tokens)
        decided.append((item, keys))
    ids: dict[CounterKey, int] = {}
    for key, counter in counters.items():
        if not counter.held:
            continue
        if counter.id is not None and not (counter.add_cost or counter.add_tokens):
            ids[key] = counter.id  # holds of nothing on a counter that exists: no write
        else:
            # Decided above under the write lock: added whatever the limit (no quota given).
            counter_id = hold_on(conn, key, None, counter.add_cost, counter.add_tokens)
            assert counter_id is not None  # without a limit the upsert always returns its id
            ids[key] = counter_id
    admitted = [d for d in decided if not isinstance(d, Refused)]
    hold_ids = _inserted(conn, [(item, [ids[key] for key in keys]) for item, keys in admitted])
    inserted = iter(zip(admitted, hold_ids, strict=True))
    shapes: dict[tuple[tuple[CounterKey, ...], Tracked], HoldShape] = {}
    outcomes: list[Hold | Refused] = []
    for d in decided:
        if isinstance(d, Refused):
            outcomes.append(d)
            continue
        (item, keys), hold_id = next(inserted)
        # Requests of one caller hold on the same counters under the same quotas: what
        # their holds say of those is built once per batch (frozen, so shared).
        known = (tuple(keys), item.tracked)
        shape = shapes.get(known)
        if shape is None:
            shape = shapes[known] = _hold_shape(item.tracked, keys, ids)
        outcomes.append(made(item, hold_id, shape))
    return outcomes


def _inserted(conn: Connection, holds: list[tuple[ReserveItem, list[int]]]) -> list[int]:
    """The reservation rows in one INSERT … RETURNING; their ids in `holds`' order."""
    if not holds:
        return []
    rows = [
        (
            item.caller.team_id,
            ",".join(str(c) for c in sorted(counter_ids)),
            item.cost_micros,
            item.tokens,
            item.now,
            item.instance_id,
            item.request_id,
            item.context,
        )
        for item, counter_ids in holds
    ]
    requests = {item.request_id for item, _ in holds}
    if len(requests) < len(holds) or None in requests:  # not told apart: one row at a time
        return [int(_INSERT_ROWS.execute(conn, [row])[0][0]) for row in rows]
    returned = _INSERT_ROWS.execute(conn, rows)
    by_request = {request_id: int(hold_id) for hold_id, request_id in returned}
    return [by_request[item.request_id] for item, _ in holds]


def _hold_shape(tracked: Tracked, keys: list[CounterKey], ids: dict[CounterKey, int]) -> HoldShape:
    """A hold's limits (its counters with a quota, in `tracked` order) and its counters'
    ids and keys, sorted by id."""
    limits = (
        counter_limit(ids[key], key, quota)
        for key, (_, quota) in zip(keys, tracked, strict=True)
        if quota is not None
    )
    return hold_shape(limits, ((ids[key], key) for key in keys))
