"""The budget counters' statements, built once: take a hold where the limit has room, move
money between reserved and spent, read one counter. Synchronous Core over the ledger
writer's connection (hub/ledger/writer.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.ledger.precompiled import Precompiled
from hub.ledger.quotas import QuotaLimit
from hub.store.ledger_tables import BudgetCounter

_COUNTERS = cast(Table, BudgetCounter.__table__)
_C = _COUNTERS.c


@dataclass(frozen=True, slots=True)
class CounterState:
    cost_spent_micros: int
    cost_reserved_micros: int
    tokens_spent: int
    tokens_reserved: int


@dataclass(frozen=True, slots=True)
class Move:
    """What one counter gives back from reserved and adds to spent (cost, tokens)."""

    release_cost: int = 0
    release_tokens: int = 0
    spend_cost: int = 0
    spend_tokens: int = 0

    def __add__(self, other: Move) -> Move:
        return Move(
            self.release_cost + other.release_cost,
            self.release_tokens + other.release_tokens,
            self.spend_cost + other.spend_cost,
            self.spend_tokens + other.spend_tokens,
        )


# A counter's key: one row per scope, window and period.
_KEY = ["scope", "scope_id", "window", "period_start"]


def _new_counter(
    dialect_insert: Any, *, reserved: tuple[Any, Any] = (0, 0), spent: tuple[Any, Any] = (0, 0)
) -> Any:
    """The INSERT of the period's counter of the key in the parameters, with these (cost,
    tokens) figures reserved and spent: what an upsert makes when there is none yet."""
    return dialect_insert(BudgetCounter).values(
        scope=bindparam("scope"),
        scope_id=bindparam("scope_id"),
        window=bindparam("window"),
        period_start=bindparam("period_start"),
        cost_reserved_micros=reserved[0],
        cost_spent_micros=spent[0],
        tokens_reserved=reserved[1],
        tokens_spent=spent[1],
    )


def _upsert(dialect_insert: Any, *, cost_limited: bool, token_limited: bool) -> Any:
    """Insert the period's counter holding the request, or add the hold to the existing one
    only where its limit still has room: one statement, RETURNING the id (none: no room)."""
    upsert = _new_counter(dialect_insert, reserved=(bindparam("cost"), bindparam("tokens")))
    room = []
    if cost_limited:
        room.append(
            _C.cost_spent_micros + _C.cost_reserved_micros + bindparam("cost")
            <= bindparam("cost_limit")
        )
    if token_limited:
        room.append(
            _C.tokens_spent + _C.tokens_reserved + bindparam("tokens") <= bindparam("token_limit")
        )
    return upsert.on_conflict_do_update(
        index_elements=_KEY,
        set_={
            "cost_reserved_micros": _C.cost_reserved_micros + bindparam("cost"),
            "tokens_reserved": _C.tokens_reserved + bindparam("tokens"),
        },
        where=and_(*room) if room else None,
    ).returning(_C.id)


_HOLDS = {
    (dialect, cost, tokens): Precompiled(_upsert(insert, cost_limited=cost, token_limited=tokens))
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
    for cost in (False, True)
    for tokens in (False, True)
}


def _spend_upsert(dialect_insert: Any) -> Any:
    """Add spend to the period's counter of a key, made if there is none: RETURNING its id
    and spent figures afterwards."""
    upsert = _new_counter(
        dialect_insert, spent=(bindparam("spend_cost"), bindparam("spend_tokens"))
    )
    return upsert.on_conflict_do_update(
        index_elements=_KEY,
        set_={
            "cost_spent_micros": _C.cost_spent_micros + upsert.excluded.cost_spent_micros,
            "tokens_spent": _C.tokens_spent + upsert.excluded.tokens_spent,
        },
    ).returning(_C.id, _C.cost_spent_micros, _C.tokens_spent)


_SPENDS = {
    "postgresql": Precompiled(_spend_upsert(pg_insert)),
    "sqlite": Precompiled(_spend_upsert(sqlite_insert)),
}
# One counter by its key: its id and figures (the SQLite batch reads each counter it moves
# with it, hub/ledger/reserve_sqlite.py; a refusal reports the figures).
_READ = Precompiled(
    select(
        _C.id, _C.cost_spent_micros, _C.cost_reserved_micros, _C.tokens_spent, _C.tokens_reserved
    ).where(
        _C.scope == bindparam("scope"),
        _C.scope_id == bindparam("scope_id"),
        _C.window == bindparam("window"),
        _C.period_start == bindparam("period_start"),
    )
)
_MOVE = Precompiled(
    update(BudgetCounter)
    .where(_C.id == bindparam("counter_id"))
    .values(
        cost_reserved_micros=_C.cost_reserved_micros - bindparam("release_cost"),
        tokens_reserved=_C.tokens_reserved - bindparam("release_tokens"),
        cost_spent_micros=_C.cost_spent_micros + bindparam("spend_cost"),
        tokens_spent=_C.tokens_spent + bindparam("spend_tokens"),
    )
    .returning(_C.id, _C.cost_spent_micros, _C.tokens_spent)
)
# PostgreSQL: every counter of a batch moved in one statement (arrays, one round trip).
_MOVE_MANY_PG = Precompiled(
    text(
        "UPDATE budget_counters AS c SET "
        "cost_reserved_micros = c.cost_reserved_micros - v.release_cost, "
        "tokens_reserved = c.tokens_reserved - v.release_tokens, "
        "cost_spent_micros = c.cost_spent_micros + v.spend_cost, "
        "tokens_spent = c.tokens_spent + v.spend_tokens "
        "FROM unnest(CAST(:ids AS BIGINT[]), CAST(:release_cost AS BIGINT[]), "
        "CAST(:release_tokens AS BIGINT[]), CAST(:spend_cost AS BIGINT[]), "
        "CAST(:spend_tokens AS BIGINT[])) "
        "AS v(id, release_cost, release_tokens, spend_cost, spend_tokens) "
        "WHERE c.id = v.id RETURNING c.id, c.cost_spent_micros, c.tokens_spent"
    )
)


def has_room(
    quota: QuotaLimit | None, cost: int, tokens: int, used: tuple[int, int] = (0, 0)
) -> bool:
    """Whether a hold of `cost` and `tokens` stays within each of the quota's limits on a
    counter that has `used` (spent + reserved: cost, tokens) already; a new counter has
    used nothing. The one statement of the limit check: `hold_on`'s upsert makes it in SQL
    (its WHERE), and the SQLite batch (hub/ledger/reserve_sqlite.py) and PostgreSQL's
    one-statement holds (hub/ledger/reserving.py `_fits_empty`) ask it here."""
    if quota is None:
        return True
    cost_limit, token_limit = quota.cost_limit_micros, quota.token_limit
    return (cost_limit is None or used[0] + cost <= cost_limit) and (
        token_limit is None or used[1] + tokens <= token_limit
    )


def hold_on(
    conn: Connection,
    key: tuple[str, int, str, date],
    quota: QuotaLimit | None,
    cost_micros: int,
    tokens: int,
) -> int | None:
    """Add the hold to one counter if its limit has room; the counter id, or None if not."""
    if not has_room(quota, cost_micros, tokens):
        return None  # a new counter starts empty: not even that would fit
    cost_limit = quota.cost_limit_micros if quota else None
    token_limit = quota.token_limit if quota else None
    scope, scope_id, window, start = key
    statement = _HOLDS[(_dialect(conn), cost_limit is not None, token_limit is not None)]
    params: dict[str, object] = {
        "scope": scope,
        "scope_id": scope_id,
        "window": window,
        "period_start": start,
        "cost": cost_micros,
        "tokens": tokens,
    }
    if cost_limit is not None:
        params["cost_limit"] = cost_limit
    if token_limit is not None:
        params["token_limit"] = token_limit
    counter_id = statement.scalar(conn, params)
    return None if counter_id is None else int(counter_id)


def read_counter(conn: Connection, key: tuple[str, int, str, date]) -> CounterState | None:
    found = read_counter_row(conn, key)
    return None if found is None else found[1]


def read_counter_row(
    conn: Connection, key: tuple[str, int, str, date]
) -> tuple[int, CounterState] | None:
    """The counter of `key`: its id and figures (None: no row)."""
    scope, scope_id, window, start = key
    rows = _READ.rows(
        conn, {"scope": scope, "scope_id": scope_id, "window": window, "period_start": start}
    )
    if not rows:
        return None
    counter_id, *figures = rows[0]
    return int(counter_id), CounterState(*(int(v) for v in figures))


def move_counters(conn: Connection, moves: Mapping[int, Move]) -> dict[int, tuple[int, int]]:
    """Apply every counter's move; each counter's spent (cost, tokens) afterwards."""
    if not moves:
        return {}
    ids = sorted(moves)  # one lock order for every transaction: PostgreSQL never deadlocks
    if _dialect(conn) == "postgresql" and len(ids) > 1:
        rows = _MOVE_MANY_PG.rows(
            conn,
            {
                "ids": ids,
                "release_cost": [moves[i].release_cost for i in ids],
                "release_tokens": [moves[i].release_tokens for i in ids],
                "spend_cost": [moves[i].spend_cost for i in ids],
                "spend_tokens": [moves[i].spend_tokens for i in ids],
            },
        )
    else:
        rows = [
            _MOVE.rows(
                conn,
                {
                    "counter_id": i,
                    "release_cost": moves[i].release_cost,
                    "release_tokens": moves[i].release_tokens,
                    "spend_cost": moves[i].spend_cost,
                    "spend_tokens": moves[i].spend_tokens,
                },
            )[0]
            for i in ids
        ]
    return {int(row[0]): (int(row[1]), int(row[2])) for row in rows}


def spend_by_key(
    conn: Connection, counters: Mapping[int, tuple[str, int, str, date]], move: Move
) -> dict[int, tuple[int, int]]:
    """Add `move`'s spend (it releases nothing) to the counter of each key, whatever its id
    now; each one's spent (cost, tokens) afterwards, under the id the caller knew it by.
    For a hold that is gone (hub/ledger/settling.py `_write_unheld`), whose counter ids may
    name other counters by now."""
    assert not (move.release_cost or move.release_tokens)
    statement = _SPENDS[_dialect(conn)]
    spent: dict[int, tuple[int, int]] = {}
    for known, key in sorted(counters.items(), key=lambda pair: pair[1]):  # one lock order
        scope, scope_id, window, start = key
        (row,) = statement.rows(
            conn,
            {
                "scope": scope,
                "scope_id": scope_id,
                "window": window,
                "period_start": start,
                "spend_cost": move.spend_cost,
                "spend_tokens": move.spend_tokens,
            },
        )
        spent[known] = (int(row[1]), int(row[2]))
    return spent


def _dialect(conn: Connection) -> str:
    return "postgresql" if conn.dialect.name == "postgresql" else "sqlite"
