"""Settle, as the ledger writer runs it: every settlement of a batch in one transaction, in
a handful of statements however many there are.

For the usual settlement (its hold still there): one DELETE … RETURNING releases every hold
of the batch, one statement moves every counter they touch (SQLite: one small UPDATE per
counter, in-process; PostgreSQL: the release and the move are one statement, the DELETE and
an UPDATE over arrays summed per counter, so one round trip), one INSERT … RETURNING writes
the usage records, one more stages their rollup facts for the fold (hub/ledger/fold.py;
PostgreSQL: both in the release's statement too, hub/ledger/pg_settle_batch.py, when it
released every hold of the batch).
Thresholds are worked out per request from the counters' figures, in the batch's order, as
if each had settled alone.

The unusual ones (the hold is gone: the lease sweeper recovered it and wrote an `interrupted`
estimate, or a journal replays a settlement that already reached the database, or a
PostgreSQL crash lost the reservation's asynchronous commit) are settled one by one after
that: a replay writes nothing, a late settle corrects the estimate to the provider's count
and books only the difference, a lost one books it all. Every settlement of a request id
leaves exactly one usage record.

Ids alone never name a hold or a counter here: after a crash lost a reservation, its ids
can be handed out again, to another request's hold and another team's counter. A hold is
released by its id and its request id together; a released hold moves the counters its own
row names (commits are recovered in order: the counters it took survived with it); a hold
that is gone moves nothing by id, its spend goes to the counters of its keys
(`spend_by_key`, hub/ledger/counters.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, text

from hub.events.outbox import EventSink
from hub.ledger.counters import Move, move_counters, spend_by_key
from hub.ledger.holds import Hold, Settlement
from hub.ledger.multirow import SIZES, in_sizes
from hub.ledger.pg_settle_batch import settle_batch_pg
from hub.ledger.precompiled import Precompiled, execute_rows
from hub.ledger.settle_pg import settle_alone
from hub.ledger.thresholds import crossed_thresholds
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_writer import rewrite_usage_in, write_usage
from hub.ledger.writer import NOT_ALONE, Tx
from hub.store.event_tables import OutboxEvent
from hub.store.ledger_tables import Reservation, UsageRecord

_HOLD_TABLE = cast(Table, Reservation.__table__)
_HOLDS = _HOLD_TABLE.c
_RECORDS = cast(Table, UsageRecord.__table__).c
# SQLite: every hold of a batch in one statement (or a few, cut into `SIZES`, so a handful
# of SQL texts stay in the driver's statement cache), each by its id and its request id: a
# row is released only if both are the hold's, since an id alone may have been handed out
# again to another request (SQLite reuses the largest rowid once it is deleted; on
# PostgreSQL a crash may lose the reservation's asynchronous commit). Each term is a rowid
# lookup (`MULTI-INDEX OR`): 7.5 µs for one hold where the former `(id, request_id) IN
# (SELECT … FROM json_each(:holds))` took 50 µs (its JSON parsed and a subquery run).
_RELEASE_SQL = {
    size: f"DELETE FROM {_HOLD_TABLE.name} WHERE "
    + " OR ".join(["id = ? AND request_id = ?"] * size)
    + " RETURNING id"
    for size in SIZES
}
# PostgreSQL: the batch's holds released and the counters of those released moved, in one
# statement (one round trip instead of two): each (hold, counter) pair's move, summed per
# counter over the holds the DELETE took. A released row is this hold's own (its id and
# request id), so the counters the hub took it on are the row's: commits are recovered in
# order, and a hold that survived a crash has the counters it was taken on.
_RELEASE_AND_MOVE_PG = Precompiled(
    text(
        f"WITH released AS (DELETE FROM {_HOLD_TABLE.name} AS r "
        "USING unnest(CAST(:ids AS BIGINT[]), CAST(:requests AS VARCHAR[])) AS h(id, request) "
        "WHERE r.id = h.id AND r.request_id = h.request RETURNING r.id), "
        "m AS (SELECT counter_id, CAST(sum(release_cost) AS BIGINT) AS release_cost, "
        "CAST(sum(release_tokens) AS BIGINT) AS release_tokens, "
        "CAST(sum(spend_cost) AS BIGINT) AS spend_cost, "
        "CAST(sum(spend_tokens) AS BIGINT) AS spend_tokens "
        "FROM unnest(CAST(:hold_ids AS BIGINT[]), CAST(:counter_ids AS BIGINT[]), "
        "CAST(:release_cost AS BIGINT[]), CAST(:release_tokens AS BIGINT[]), "
        "CAST(:spend_cost AS BIGINT[]), CAST(:spend_tokens AS BIGINT[])) "
        "AS v(hold_id, counter_id, release_cost, release_tokens, spend_cost, spend_tokens) "
        "WHERE v.hold_id IN (SELECT id FROM released) GROUP BY counter_id), "
        "moved AS (UPDATE budget_counters AS c SET "
        "cost_reserved_micros = c.cost_reserved_micros - m.release_cost, "
        "tokens_reserved = c.tokens_reserved - m.release_tokens, "
        "cost_spent_micros = c.cost_spent_micros + m.spend_cost, "
        "tokens_spent = c.tokens_spent + m.spend_tokens "
        "FROM m WHERE c.id = m.counter_id "
        "RETURNING c.id, c.cost_spent_micros, c.tokens_spent) "
        "SELECT 0, id, 0, 0 FROM released "
        "UNION ALL SELECT 1, id, cost_spent_micros, tokens_spent FROM moved"
    )
)
_RECORDED = select(
    _RECORDS.id,
    _RECORDS.cost_micros,
    _RECORDS.prompt_tokens + _RECORDS.completion_tokens,
    _RECORDS.created_at,
    _RECORDS.estimated,
).where(_RECORDS.request_id == bindparam("request_id"))
_EVENTS = insert(cast(Table, OutboxEvent.__table__))


@dataclass(frozen=True, slots=True)
class SettleItem:
    hold: Hold
    entry: UsageEntry
    now: datetime
    wanted: frozenset[str]  # the event types the team's subscriptions want


class Settle:
    """The writer's group for settlements (hub/ledger/writer.py)."""

    def __init__(self, events: EventSink, on_usage: Callable[[UsageEntry], None]) -> None:
        self._events = events
        self._on_usage = on_usage  # metrics: once per record written, after COMMIT

    def write(self, tx: Tx, items: Sequence[SettleItem]) -> list[Settlement]:
        hold_ids = [item.hold.id for item in items]
        requests = [item.entry.request_id for item in items]
        if len(set(hold_ids)) < len(items) or len(set(requests)) < len(items):
            # The same hold or request twice in one batch (a replay racing a retry): in
            # order, each seeing what the one before wrote.
            return [self._write_batch(tx, [item])[0] for item in items]
        return self._write_batch(tx, items)

    def write_alone(self, tx: Tx, item: SettleItem) -> Settlement | object:
        """PostgreSQL, a batch's only settlement: one statement in autocommit
        (hub/ledger/settle_pg.py), or NOT_ALONE."""
        if tx.dialect != "postgresql" or "completion.created" in item.wanted:
            return NOT_ALONE
        settled = settle_alone(
            tx.conn,
            _RELEASE_AND_MOVE_PG.statement,
            item,
            _release_params([item]),
            synchronous_commit=tx.synchronous_commit,
        )
        if settled is None:
            return NOT_ALONE
        self._noted(tx, item.entry)
        return settled

    def _write_batch(self, tx: Tx, items: Sequence[SettleItem]) -> list[Settlement]:
        moved: dict[int, tuple[int, int]] | None = None
        recorded: dict[str, int] | None = None  # PostgreSQL: the records written with it
        if tx.dialect == "postgresql":
            released, moved, recorded = settle_batch_pg(
                tx, _RELEASE_AND_MOVE_PG.statement, items, _release_params(items)
            )
        else:
            released = _release_sqlite(tx, items)
        held = [item for item in items if item.hold.id in released]
        settled: dict[int, Settlement] = {}
        events: list[dict[str, object]] = []
        if held:
            moves: dict[int, Move] = {}
            for item in held:
                for counter_id in item.hold.counter_ids:
                    moves[counter_id] = moves.get(counter_id, Move()) + _move(item, (0, 0))
            after = move_counters(tx.conn, moves) if moved is None else moved
            # Each counter's figures before the batch, then request by request.
            running = {
                c: (after[c][0] - moves[c].spend_cost, after[c][1] - moves[c].spend_tokens)
                for c in moves
            }
            if recorded is None:
                usage_ids = write_usage(tx.conn, [(item.entry, item.now) for item in held])
            else:
                usage_ids = [recorded[item.entry.request_id] for item in held]
            for item, usage_id in zip(held, usage_ids, strict=True):
                spent: dict[int, tuple[int, int]] = {}
                for counter_id in item.hold.counter_ids:
                    cost, tokens = running[counter_id]
                    running[counter_id] = spent[counter_id] = (
                        cost + item.entry.cost_micros,
                        tokens + item.entry.tokens_charged,
                    )
                settled[item.hold.id] = self._announce(tx, item, usage_id, spent, events)
                self._noted(tx, item.entry)
        for item in items:
            if item.hold.id not in released:
                settled[item.hold.id] = self._write_unheld(tx, item, events)
        if events:
            tx.conn.execute(_EVENTS, events)
        return [settled[item.hold.id] for item in items]

    def _write_unheld(
        self, tx: Tx, item: SettleItem, events: list[dict[str, object]]
    ) -> Settlement:
        """A hold someone else released: by a recovery that wrote an estimated record (book
        the difference, correct the record), or by an earlier settle (nothing to do); or one
        a PostgreSQL crash lost after its asynchronous commit (no record: book it all).

        Nothing is released (what the hold took went with it), and the spend goes to the
        counters of the hold's keys, made anew if the crash lost them: the ids the hub holds
        may name another team's counters by now."""
        entry = item.entry
        row = tx.conn.execute(_RECORDED, {"request_id": entry.request_id}).one_or_none()
        if row is not None and not row[4]:
            return Settlement(int(row[0]), [])  # settled already (a journal replayed)
        booked = (int(row[1]), int(row[2])) if row is not None else (0, 0)
        hold, move = item.hold, _move(item, booked, held=False)
        if hold.counter_keys:
            spent = spend_by_key(
                tx.conn, dict(zip(hold.counter_ids, hold.counter_keys, strict=True)), move
            )
        else:  # a journal line from before holds kept their keys (reservations were durable)
            spent = move_counters(tx.conn, dict.fromkeys(hold.counter_ids, move))
        if row is None:
            (usage_id,) = write_usage(tx.conn, [(entry, item.now)])
            self._noted(tx, entry)
        else:
            usage_id = int(row[0])
            rewrite_usage_in(tx.conn, usage_id, entry, created_at=row[3])
        return self._announce(tx, item, usage_id, spent, events)

    def _announce(
        self,
        tx: Tx,
        item: SettleItem,
        usage_id: int,
        spent: dict[int, tuple[int, int]],
        events: list[dict[str, object]],
    ) -> Settlement:
        """The request's events: its completion, and the thresholds its settle crossed."""
        entry, team_id = item.entry, item.entry.caller.team_id
        if "completion.created" in item.wanted:
            events.append(
                self._events.outbox_row(
                    team_id=team_id, type="completion.created", data=entry.event_data()
                )
            )
        thresholds: list[dict[str, object]] = []
        if item.hold.limits:
            thresholds = crossed_thresholds(
                tx.conn,
                caller=entry.caller,
                limits=item.hold.limits,
                spent_after=spent,
                added=(entry.cost_micros, entry.tokens_charged),
                now=item.now,
            )
            if "budget.threshold" in item.wanted:
                events.extend(
                    self._events.outbox_row(team_id=team_id, type="budget.threshold", data=data)
                    for data in thresholds
                )
        return Settlement(usage_id, thresholds)

    def _noted(self, tx: Tx, entry: UsageEntry) -> None:
        on_usage = self._on_usage
        tx.after_commit(lambda: on_usage(entry))


def _release_sqlite(tx: Tx, items: Sequence[SettleItem]) -> set[int]:
    """SQLite: release the batch's holds (`_RELEASE_SQL`); the ids of those released."""
    released: set[int] = set()
    for start, size in in_sizes(len(items)):
        values: list[object] = []
        for item in items[start : start + size]:
            values += (item.hold.id, item.hold.request_id)
        rows = execute_rows(tx.conn, _RELEASE_SQL[size], tuple(values))
        released.update(int(row[0]) for row in rows)
    return released


def _release_params(items: Sequence[SettleItem]) -> dict[str, object]:
    pairs = [
        (item, counter_id, _move(item, (0, 0)))
        for item in items
        for counter_id in item.hold.counter_ids
    ]
    return {
        "ids": [item.hold.id for item in items],
        "requests": [item.hold.request_id for item in items],
        "hold_ids": [item.hold.id for item, _, _ in pairs],
        "counter_ids": [counter_id for _, counter_id, _ in pairs],
        "release_cost": [move.release_cost for _, _, move in pairs],
        "release_tokens": [move.release_tokens for _, _, move in pairs],
        "spend_cost": [move.spend_cost for _, _, move in pairs],
        "spend_tokens": [move.spend_tokens for _, _, move in pairs],
    }


def _move(item: SettleItem, booked: tuple[int, int], *, held: bool = True) -> Move:
    """Give back the hold (when this settle released it) and spend what was not booked yet."""
    hold, entry = item.hold, item.entry
    return Move(
        release_cost=hold.cost_micros if held else 0,
        release_tokens=hold.tokens if held else 0,
        spend_cost=entry.cost_micros - booked[0],
        spend_tokens=entry.tokens_charged - booked[1],
    )
