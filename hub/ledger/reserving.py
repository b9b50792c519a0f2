"""Reserve, as the ledger writer runs it: every hold of a batch in one transaction.

Each request's hold goes on every counter that applies (sorted: one lock order), each with
one upsert that only adds where the limit has room (hub/ledger/counters.py). A request that
does not fit somewhere gives back what it took on the counters before, in the same
transaction, so it holds nothing, and the others of the batch are not disturbed. The
admitted requests' reservation rows are then inserted in one statement.

PostgreSQL: a request's whole hold is one statement, one round trip however many counters
(`_RESERVE_PG`: every counter's upsert over arrays, and the reservation row inserted only
if every counter had room); one that does not fit gives back what it took in the same
transaction, as above. Several requests of a batch are one statement together when every
counter has room for the sum of their holds (hub/ledger/pg_reserve.py), else one each.

A reservation commits at `[database] postgres_synchronous_commit` like the rest of the
writer's work (off by default: its COMMIT does not wait for the WAL flush). A server crash
may then lose it after the hub was told it committed, and the sequences hand its ids out
again, to another request's hold and another team's counter; the hub keeps more than ids
for that (`Hold.request_id`, `Hold.counter_keys`): a settle releases a row only if it is
this request's, and moves only the counters that row names or, the row gone, the counters
of its keys (hub/ledger/settling.py). Commits are recovered in order, so a hold that
survived has its counters, and one that was lost took nothing that survived.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import cast

from sqlalchemy import Table, bindparam, insert, text

from hub.ledger.counters import (
    CounterState,
    Move,
    has_room,
    hold_on,
    move_counters,
    read_counter,
)
from hub.ledger.holds import CounterKey, Hold
from hub.ledger.periods import period_start
from hub.ledger.pg_reserve import hold_together_pg
from hub.ledger.precompiled import Precompiled, insert_returning_ids
from hub.ledger.quotas import QuotaLimit
from hub.ledger.reserve_items import Refused, ReserveItem, counter_limit, hold_shape, made
from hub.ledger.reserve_sqlite import reserve_batch
from hub.ledger.thresholds import CounterLimit
from hub.ledger.writer import NOT_ALONE, SYNC_COMMIT, Tx
from hub.store.base import UTCDateTime
from hub.store.ledger_tables import Reservation

_RESERVATIONS = cast(Table, Reservation.__table__)
_INSERT = insert(_RESERVATIONS).returning(_RESERVATIONS.c.id, sort_by_parameter_order=True)
_INSERT_ONE = Precompiled(insert(_RESERVATIONS).returning(_RESERVATIONS.c.id))
# Every counter of one request's hold in one upsert (a counter only takes it where its limit,
# looked up by key, has room), then its reservation row if every counter took it; returns
# the counters that took it and the reservation's id (NULL: some counter had no room).
_RESERVE_PG_CTES = (
    "WITH wanted AS (SELECT * FROM unnest(CAST(:scopes AS VARCHAR[]), "
    "CAST(:scope_ids AS BIGINT[]), CAST(:windows AS VARCHAR[]), CAST(:starts AS DATE[]), "
    "CAST(:cost_limits AS BIGINT[]), CAST(:token_limits AS BIGINT[])) WITH ORDINALITY "
    'AS w(scope, scope_id, "window", period_start, cost_limit, token_limit, n)), '
    'held AS (INSERT INTO budget_counters AS c (scope, scope_id, "window", period_start, '
    "cost_reserved_micros, cost_spent_micros, tokens_reserved, tokens_spent) "
    'SELECT scope, scope_id, "window", period_start, CAST(:cost AS BIGINT), 0, '
    "CAST(:tokens AS BIGINT), 0 "
    "FROM wanted ORDER BY n "
    'ON CONFLICT (scope, scope_id, "window", period_start) DO UPDATE SET '
    "cost_reserved_micros = c.cost_reserved_micros + EXCLUDED.cost_reserved_micros, "
    "tokens_reserved = c.tokens_reserved + EXCLUDED.tokens_reserved "
    "WHERE (SELECT (w.cost_limit IS NULL OR c.cost_spent_micros + c.cost_reserved_micros "
    "+ EXCLUDED.cost_reserved_micros <= w.cost_limit) AND (w.token_limit IS NULL OR "
    "c.tokens_spent + c.tokens_reserved + EXCLUDED.tokens_reserved <= w.token_limit) "
    "FROM wanted AS w WHERE w.scope = c.scope AND w.scope_id = c.scope_id "
    'AND w."window" = c."window" AND w.period_start = c.period_start) '
    'RETURNING c.id, c.scope, c.scope_id, c."window"), '
    "made AS (INSERT INTO reservations (team_id, counter_ids, cost_micros, tokens, "
    "created_at, instance_id, request_id, context, completion_tokens) "
    "SELECT CAST(:team_id AS BIGINT), string_agg(CAST(id AS TEXT), ',' ORDER BY id), "
    "CAST(:cost AS BIGINT), CAST(:tokens AS BIGINT), CAST(:created_at AS TIMESTAMPTZ), "
    "CAST(:instance_id AS VARCHAR), CAST(:request_id AS VARCHAR), CAST(:context AS TEXT), "
    "0 FROM held "
    "HAVING count(*) = :count RETURNING id) "
)
_RESERVE_PG = Precompiled(
    text(
        _RESERVE_PG_CTES + 'SELECT (SELECT id FROM made), id, scope, scope_id, "window" FROM held'
    ).bindparams(bindparam("created_at", type_=UTCDateTime()))
)
# The same in autocommit, for a batch of one (hub/ledger/writer.py, `Alone`): a request that
# does not fit after some counters took its hold makes the statement fail (a division by
# zero when no reservation row was made but a counter row was held), so the server rolls
# back those holds, and the writer reserves it again in a transaction, which refuses it at
# the right counter. One that no counter took wrote nothing (a new counter always takes a
# hold that `_fits_empty`): the statement answers with the first counter's figures as the
# statement found them, and the refusal is made from them (the common refusal: a team or
# key out of budget), without a failed statement or a transaction. Its last column sets the
# writer's `synchronous_commit` for the statement's own transaction (`SYNC_COMMIT`).
_RESERVE_PG_ALONE = Precompiled(
    text(
        _RESERVE_PG_CTES + "SELECT 1 / (CASE WHEN made.id IS NULL AND held.id IS NOT NULL "
        'THEN 0 ELSE 1 END), made.id, held.id, held.scope, held.scope_id, held."window", '
        "f.cost_spent_micros, f.cost_reserved_micros, f.tokens_spent, f.tokens_reserved "
        "FROM (SELECT 1) AS one LEFT JOIN made ON true LEFT JOIN held ON true "
        "LEFT JOIN (SELECT c.* FROM budget_counters AS c JOIN wanted AS w "
        'ON w.scope = c.scope AND w.scope_id = c.scope_id AND w."window" = c."window" '
        "AND w.period_start = c.period_start WHERE w.n = 1) AS f ON held.id IS NULL, " + SYNC_COMMIT
    ).bindparams(bindparam("created_at", type_=UTCDateTime()))
)


class Reserve:
    """The writer's group for reservations (hub/ledger/writer.py)."""

    def write(self, tx: Tx, items: Sequence[ReserveItem]) -> list[Hold | Refused]:
        if tx.dialect != "postgresql" and len(items) > 1:
            # SQLite: decided against each counter read once (one statement per request
            # fewer than the upserts below from the second request on); a batch of one
            # (every batch at concurrency 1) is the upserts' one statement per counter.
            return reserve_batch(tx.conn, items)
        taken: list[tuple[int, ReserveItem, _Taken, tuple[CounterLimit, ...]]] = []
        outcomes: list[Hold | Refused | None] = []
        together = _together_pg(tx, items) if tx.dialect == "postgresql" else {}
        for index, item in enumerate(items):
            if index in together:
                outcomes.append(together[index])
                continue
            if tx.dialect == "postgresql" and _fits_empty(item):
                outcomes.append(_hold_pg(tx, item))
                continue
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
                    "counter_ids": ",".join(str(c) for c, _ in ids),
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
                outcomes[index] = _made(item, hold_id, ids, limits)
        return [outcome for outcome in outcomes if outcome is not None]

    def write_alone(self, tx: Tx, item: ReserveItem) -> Hold | Refused | object:
        return hold_alone_pg(tx, item)


RESERVE = Reserve()


def _together_pg(tx: Tx, items: Sequence[ReserveItem]) -> dict[int, Hold]:
    """PostgreSQL: the holds of the batch's requests that fit an empty counter, all in one
    statement when every counter has room for their sum (hub/ledger/pg_reserve.py), by
    position; none (each is then reserved on its own) otherwise."""
    fit = [index for index, item in enumerate(items) if item.tracked and _fits_empty(item)]
    if len(fit) < 2:
        return {}
    held = hold_together_pg(tx, [items[index] for index in fit])
    if held is None:
        return {}
    return {
        index: _held(items[index], _keys(items[index]), hold_id, counters)
        for index, (hold_id, counters) in zip(fit, held, strict=True)
    }


def _fits_empty(item: ReserveItem) -> bool:
    """Whether the hold fits every limit on an empty counter (else `_hold` refuses it in
    order, without asking the database)."""
    return all(has_room(quota, item.cost_micros, item.tokens) for _, quota in item.tracked)


Key = tuple[str, int, str, date, QuotaLimit | None]
_Taken = list[tuple[int, CounterKey]]  # the counters a hold took (id, key), sorted by id


def _made(item: ReserveItem, hold_id: int, taken: _Taken, limits: tuple[CounterLimit, ...]) -> Hold:
    return made(item, hold_id, hold_shape(limits, taken))


def _keys(item: ReserveItem) -> list[Key]:
    return [
        (scope, scope_id, window, period_start(window, item.now), quota)
        for (scope, scope_id, window), quota in item.tracked
    ]


def _params_pg(item: ReserveItem, keys: list[Key]) -> dict[str, object]:
    return {
        "scopes": [k[0] for k in keys],
        "scope_ids": [k[1] for k in keys],
        "windows": [k[2] for k in keys],
        "starts": [k[3] for k in keys],
        "cost_limits": [k[4].cost_limit_micros if k[4] else None for k in keys],
        "token_limits": [k[4].token_limit if k[4] else None for k in keys],
        "cost": item.cost_micros,
        "tokens": item.tokens,
        "team_id": item.caller.team_id,
        "created_at": item.now,
        "instance_id": item.instance_id,
        "request_id": item.request_id,
        "context": item.context,
        "count": len(keys),
    }


def hold_alone_pg(tx: Tx, item: ReserveItem) -> Hold | Refused | object:
    """A batch's only reservation as one statement in autocommit (`Reserve.write_alone`):
    the hold, a refusal no counter took a hold for, or NOT_ALONE; a refusal after some
    counter took it fails the statement, which then wrote nothing."""
    if tx.dialect != "postgresql" or not item.tracked or not _fits_empty(item):
        return NOT_ALONE
    keys = _keys(item)
    params = _params_pg(item, keys)
    params["synchronous_commit"] = tx.synchronous_commit
    rows = _RESERVE_PG_ALONE.rows(tx.conn, params)
    first = rows[0]
    if first[1] is None:  # no counter had room, so none took anything: refused at the first
        scope, _, window, _, quota = keys[0]
        assert quota is not None  # a counter without a limit always takes the hold
        state = None if first[6] is None else CounterState(*(int(v) for v in first[6:10]))
        return Refused(scope, window, quota, state)
    taken = {(row[3], int(row[4]), row[5]): int(row[2]) for row in rows}
    return _held(item, keys, int(first[1]), taken)


def _hold_pg(tx: Tx, item: ReserveItem) -> Hold | Refused:
    """The request's whole hold and its reservation row in one statement (PostgreSQL)."""
    keys = _keys(item)
    rows = _RESERVE_PG.rows(tx.conn, _params_pg(item, keys))
    taken = {(row[2], int(row[3]), row[4]): int(row[1]) for row in rows}
    hold_id = rows[0][0] if rows else None
    if hold_id is None:
        # Some counter had no room: give back what the others took; refused at the first
        # (in lock order) that did not take it, as `_hold` would have been.
        move_counters(
            tx.conn,
            {
                c: Move(release_cost=item.cost_micros, release_tokens=item.tokens)
                for c in taken.values()
            },
        )
        for scope, scope_id, window, start, quota in keys:
            if (scope, scope_id, window) not in taken:
                assert quota is not None  # only a limit refuses
                key = (scope, scope_id, window, start)
                return Refused(scope, window, quota, read_counter(tx.conn, key))
        raise AssertionError("no reservation and no counter refused")
    return _held(item, keys, int(hold_id), taken)


def _held(
    item: ReserveItem, keys: list[Key], hold_id: int, taken: dict[tuple[str, int, str], int]
) -> Hold:
    limits = tuple(
        counter_limit(taken[(scope, scope_id, window)], (scope, scope_id, window, start), quota)
        for scope, scope_id, window, start, quota in keys
        if quota is not None
    )
    ids = [
        (taken[(scope, scope_id, window)], (scope, scope_id, window, start))
        for scope, scope_id, window, start, _ in keys
    ]
    return _made(item, hold_id, ids, limits)


def _hold(tx: Tx, item: ReserveItem) -> tuple[_Taken, tuple[CounterLimit, ...]] | Refused:
    counter_ids: list[int] = []
    counter_keys: list[CounterKey] = []
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
        counter_keys.append(key)
        if quota is not None:
            limits.append(counter_limit(counter_id, key, quota))
    return sorted(zip(counter_ids, counter_keys, strict=True)), tuple(limits)
