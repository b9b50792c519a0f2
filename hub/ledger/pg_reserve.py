"""PostgreSQL: a batch's reservations in one statement, one round trip however many requests.

    holds = hold_together_pg(tx, items)   # None: not all fit together; nothing is held

Each request's own statement (hub/ledger/reserving.py `_RESERVE_PG`) is one round trip, so a
batch of k reservations waited for k of them in its transaction. Here the batch's counters
(each distinct key once, in the one lock order: sorted) take the sum of the holds of every
request on them, but only if every counter has room for that sum (`room`: the counters as
the statement found them, a missing one empty); each counter's upsert checks its limit again
against the row it updates (another process may have moved it since), and the reservation
rows are inserted only if every counter took its sum. If the sums fit, every request fits
on its own, in any order, so admitting them all is what taking them one by one would do.

Otherwise nothing was held (no room: the statement wrote nothing), or some counters took the
sum and another had none left by the time it was updated (a race with another process): the
sums taken are given back in the same transaction, and the caller reserves request by
request as before, which refuses the right ones at the right counter. Its last part returns
the reservations (by request id) and the counters with their ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import text

from hub.ledger.counters import Move, move_counters
from hub.ledger.periods import period_start
from hub.ledger.precompiled import Precompiled
from hub.ledger.writer import Tx

if TYPE_CHECKING:
    from hub.ledger.reserve_items import ReserveItem

_KEY_MATCH = (
    'w.scope = c.scope AND w.scope_id = c.scope_id AND w."window" = c."window" '
    "AND w.period_start = c.period_start"
)
_FITS = (
    "(w.cost_limit IS NULL OR {spent_cost} + w.cost <= w.cost_limit) "
    "AND (w.token_limit IS NULL OR {spent_tokens} + w.tokens <= w.token_limit)"
)
_RESERVE_MANY_PG = Precompiled(
    text(
        "WITH wanted AS (SELECT * FROM unnest(CAST(:scopes AS VARCHAR[]), "
        "CAST(:scope_ids AS BIGINT[]), CAST(:windows AS VARCHAR[]), CAST(:starts AS DATE[]), "
        "CAST(:cost_limits AS BIGINT[]), CAST(:token_limits AS BIGINT[]), "
        "CAST(:costs AS BIGINT[]), CAST(:tokens AS BIGINT[])) WITH ORDINALITY "
        'AS w(scope, scope_id, "window", period_start, cost_limit, token_limit, cost, tokens, '
        "n)), "
        "room AS (SELECT bool_and("
        + _FITS.format(
            spent_cost="COALESCE(c.cost_spent_micros + c.cost_reserved_micros, 0)",
            spent_tokens="COALESCE(c.tokens_spent + c.tokens_reserved, 0)",
        )
        + f") AS ok FROM wanted AS w LEFT JOIN budget_counters AS c ON {_KEY_MATCH}), "
        'held AS (INSERT INTO budget_counters AS c (scope, scope_id, "window", period_start, '
        "cost_reserved_micros, cost_spent_micros, tokens_reserved, tokens_spent) "
        'SELECT scope, scope_id, "window", period_start, cost, 0, tokens, 0 '
        "FROM wanted WHERE (SELECT ok FROM room) ORDER BY n "
        'ON CONFLICT (scope, scope_id, "window", period_start) DO UPDATE SET '
        "cost_reserved_micros = c.cost_reserved_micros + EXCLUDED.cost_reserved_micros, "
        "tokens_reserved = c.tokens_reserved + EXCLUDED.tokens_reserved "
        "WHERE (SELECT "
        + _FITS.format(
            spent_cost="c.cost_spent_micros + c.cost_reserved_micros",
            spent_tokens="c.tokens_spent + c.tokens_reserved",
        )
        + f" FROM wanted AS w WHERE {_KEY_MATCH}) "
        'RETURNING c.id, c.scope, c.scope_id, c."window", c.period_start), '
        # Each request's counters (positions in `wanted`), as the ids they got, sorted.
        "ids AS (SELECT p.k, string_agg(CAST(h.id AS TEXT), ',' ORDER BY h.id) AS counter_ids "
        "FROM unnest(CAST(:pair_requests AS BIGINT[]), CAST(:pair_counters AS BIGINT[])) "
        "AS p(k, n) JOIN wanted AS w ON w.n = p.n JOIN held AS h ON h.scope = w.scope "
        'AND h.scope_id = w.scope_id AND h."window" = w."window" '
        "AND h.period_start = w.period_start GROUP BY p.k), "
        "made AS (INSERT INTO reservations (team_id, counter_ids, cost_micros, tokens, "
        "created_at, instance_id, request_id, context, completion_tokens) "
        "SELECT r.team_id, ids.counter_ids, r.cost, r.tokens, r.created_at, r.instance_id, "
        "r.request_id, r.context, 0 "
        "FROM unnest(CAST(:team_ids AS BIGINT[]), CAST(:request_costs AS BIGINT[]), "
        "CAST(:request_tokens AS BIGINT[]), CAST(:created_ats AS TIMESTAMPTZ[]), "
        "CAST(:instance_ids AS VARCHAR[]), CAST(:request_ids AS VARCHAR[]), "
        "CAST(:contexts AS TEXT[])) WITH ORDINALITY "
        "AS r(team_id, cost, tokens, created_at, instance_id, request_id, context, k) "
        "JOIN ids ON ids.k = r.k "
        "WHERE (SELECT count(*) FROM held) = (SELECT count(*) FROM wanted) "
        "ORDER BY r.k RETURNING id, request_id) "
        "SELECT 0, id, request_id, NULL, NULL, NULL FROM made UNION ALL SELECT 1, id, scope, "
        'scope_id, "window", period_start FROM held'
    )
)

_Key = tuple[str, int, str, date]


def hold_together_pg(
    tx: Tx, items: Sequence[ReserveItem]
) -> list[tuple[int, dict[tuple[str, int, str], int]]] | None:
    """Every item's hold (its reservation id, and its counters' ids by (scope, scope id,
    window)), in order, all taken in one statement; None: not all of them fit together (or
    the batch cannot be written so), and nothing is held."""
    requests = [item.request_id for item in items]
    if None in requests or len(set(requests)) < len(items):
        return None  # the reservations are matched by request id
    wanted: dict[_Key, list[int | None]] = {}  # key: cost limit, token limit, cost, tokens
    pairs: list[tuple[int, _Key]] = []
    keys_of: list[list[_Key]] = []  # each item's counters' keys, its period start worked out once
    for k, item in enumerate(items, start=1):
        keys_of.append(mine := [])
        for (scope, scope_id, window), quota in item.tracked:
            key = (scope, scope_id, window, period_start(window, item.now))
            mine.append(key)
            cost_limit = quota.cost_limit_micros if quota else None
            token_limit = quota.token_limit if quota else None
            known = wanted.get(key)
            if known is None:
                wanted[key] = [cost_limit, token_limit, item.cost_micros, item.tokens]
            elif known[:2] != [cost_limit, token_limit]:
                return None  # two limits for one counter (a quota changed mid-batch)
            else:
                known[2] = int(known[2] or 0) + item.cost_micros
                known[3] = int(known[3] or 0) + item.tokens
            pairs.append((k, key))
    keys = sorted(wanted)  # one lock order for every transaction
    position = {key: n for n, key in enumerate(keys, start=1)}
    params: dict[str, object] = {
        "scopes": [key[0] for key in keys],
        "scope_ids": [key[1] for key in keys],
        "windows": [key[2] for key in keys],
        "starts": [key[3] for key in keys],
        "cost_limits": [wanted[key][0] for key in keys],
        "token_limits": [wanted[key][1] for key in keys],
        "costs": [wanted[key][2] for key in keys],
        "tokens": [wanted[key][3] for key in keys],
        "pair_requests": [k for k, _ in pairs],
        "pair_counters": [position[key] for _, key in pairs],
        "team_ids": [item.caller.team_id for item in items],
        "request_costs": [item.cost_micros for item in items],
        "request_tokens": [item.tokens for item in items],
        "created_ats": [item.now for item in items],
        "instance_ids": [item.instance_id for item in items],
        "request_ids": requests,
        "contexts": [item.context for item in items],
    }
    rows = _RESERVE_MANY_PG.rows(tx.conn, params)
    made = {row[2]: int(row[1]) for row in rows if row[0] == 0}
    held = {(row[2], int(row[3]), row[4], row[5]): int(row[1]) for row in rows if row[0] == 1}
    if len(made) < len(items):
        if held:  # a counter had no room left by the time it was updated: give the sums back
            move_counters(
                tx.conn,
                {
                    counter_id: Move(release_cost=int(wanted[key][2] or 0),
                                     release_tokens=int(wanted[key][3] or 0))
                    for key, counter_id in held.items()
                },
            )  # fmt: skip
        return None
    return [
        (made[item.request_id], {key[:3]: held[key] for key in mine})
        for item, mine in zip(items, keys_of, strict=True)
    ]
