"""Folding staged rollup facts into the rollups: off the settlement's transaction, exactly once.

    folder = RollupFolder(writer, engine)   # hub/service.py
    folder.staged()                         # after a record's COMMIT: maybe fold soon
    await folder.fold()                     # before a report reads the rollups

A settlement stages its record's rollup facts (one row of `usage_rollup_staged`, hub/store/
rollup_tables.py: pg_rollups.py's `FACT_COLUMNS`) in its own transaction, rather than upserting
the record's twenty-four rollup rows there: on PostgreSQL that upsert was 0.3 ms of the
settle's 0.55 ms of server time at concurrency 1, on SQLite 3,700 of its 4,100 VM steps.
A fold, one transaction, takes staged facts out of the table, adds up those that agree on
all but their sums, expands them into rollup rows (the same shapes as ever: rollups.py
`SHAPES`), sums those per key and upserts the sums. Facts leave staging in the transaction
that adds them to the rollups, so a fact is counted once whatever fails or is killed: a
rolled-back fold leaves them staged, a committed one has added and removed them together.
On PostgreSQL the facts taken are locked (`FOR UPDATE`), so two processes' folds take
disjoint facts: a fold before a report waits for another's to commit (then sees its facts
gone, and the report sees them folded), one in the background skips what another holds
(`SKIP LOCKED`); on SQLite a fold is a job of the one writer.

Folds run (on SQLite in the writer's batches, hub/ledger/writer.py `run`; on PostgreSQL in a
transaction of their own beside the writer) when `FOLD_EVERY` records were staged since the
last fold, `FOLD_AFTER_S` after the first one staged, at start-up, and before every report
that finds facts staged (`UsageReports.folded`, also billing's rollup counts), so a report
equals the sums of the usage records committed before it, and staging stays a few hundred
rows (reports stay O(1) in the ledger's size).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.ledger.pg_rollups import FACT_COLUMNS, STAGED, fact_keys, upsert_sql
from hub.ledger.rollups import ROW_COLUMNS, SUM_COLUMNS
from hub.store.rollup_tables import ROLLUP_KEY, UsageRollup

if TYPE_CHECKING:
    from hub.ledger.writer import LedgerWriter

log = logging.getLogger("hub.ledger")

FOLD_EVERY = 256  # records staged since the last fold that start one
FOLD_AFTER_S = 1.0  # after the first record staged, at the latest
FOLD_LIMIT = 4096  # facts per statement (PostgreSQL: a fold's statements until fewer)


def _pg_sql(dialect: Dialect, *, wait: bool) -> str:
    """Take up to `:limit` staged facts (the oldest; locked, so a second process's fold takes
    others: `wait`, it waits for the first's to commit and then skips the facts it deleted;
    else it skips the locked ones at once), add them to the rollups, delete them; the count
    taken."""
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in FACT_COLUMNS)
    return (
        f"WITH taken AS (DELETE FROM {STAGED} WHERE id IN (SELECT id FROM {STAGED} "
        f"ORDER BY id LIMIT :limit FOR UPDATE{'' if wait else ' SKIP LOCKED'}) "
        f"RETURNING {names}), "
        f"g AS ({_identities(quote, 'taken')}), "
        f"added AS ({upsert_sql(dialect, grouped=True, source='g')}) "
        "SELECT count(*) FROM taken"
    )


def _identities(quote: Any, source: str) -> str:
    """The facts of `source` that agree on all but their sums, added up: a team's traffic
    through one key and model in a quarter hour is one row before it is expanded into its
    twenty-four (a fold of 100 such facts expanded each: 2,400 rows to sum per key)."""
    identity = [quote(name) for name in FACT_COLUMNS if name not in SUM_COLUMNS]
    return (
        f"SELECT {', '.join(identity)}, "
        + ", ".join(f"CAST(sum({quote(n)}) AS BIGINT) AS {quote(n)}" for n in SUM_COLUMNS)
        + f" FROM {source} GROUP BY {', '.join(identity)}"
    )


def _sqlite_sql(dialect: Dialect) -> str:
    """Every staged fact up to `:upto` added to the rollups: the facts that agree on all but
    their sums added up first (`g`: a team's traffic through one key and model in a quarter
    hour is one row), then one SELECT per shape and grain of those (SQLite has no LATERAL),
    summed per key, upserted. Expanded fact by fact, a fold of 256 facts took 2,800 VM steps
    a fact, most of them sorting 24 rows a fact for the GROUP BY."""
    quote = dialect.identifier_preparer.quote
    grouped = _identities(quote, f"(SELECT * FROM {STAGED} WHERE id <= :upto)")
    sums = ", ".join(f"f.{quote(name)}" for name in SUM_COLUMNS)
    arms = [f"SELECT {key}, {sums} FROM g AS f" for key in fact_keys(quote)]
    names = ", ".join(quote(name) for name in ROW_COLUMNS)
    keys = ", ".join(f"k.{quote(name)}" for name in ROLLUP_KEY)
    summed = ", ".join(f"sum(k.{quote(name)})" for name in SUM_COLUMNS)
    update = ", ".join(
        f"{quote(n)} = {UsageRollup.__tablename__}.{quote(n)} + excluded.{quote(n)}"
        for n in SUM_COLUMNS
    )
    # WHERE before GROUP BY: SQLite then reads ON CONFLICT as the upsert's, not a join's.
    return (
        f"WITH g AS MATERIALIZED ({grouped}), k({names}) AS ({' UNION ALL '.join(arms)}) "
        f"INSERT INTO {UsageRollup.__tablename__} ({names}) "
        f"SELECT {keys}, {summed} FROM k WHERE k.bin IS NOT NULL GROUP BY {keys} "
        f"ON CONFLICT ({', '.join(quote(n) for n in ROLLUP_KEY)}) DO UPDATE SET {update}"
    )


_SQL: dict[tuple[str, bool], str] = {}


def fold_staged(conn: Connection, *, wait: bool = True, limit: int = FOLD_LIMIT) -> int:
    """Fold every fact staged into the rollups, inside the connection's transaction; how
    many. PostgreSQL: `limit` facts a statement; `wait`: facts another process's fold holds
    are waited for (then gone: a report after this fold sees them folded), else left to it
    (a fold in the background need not wait)."""
    dialect = conn.dialect
    postgres = dialect.name == "postgresql"
    sql = _SQL.get((dialect.name, wait))
    if sql is None:
        sql = _SQL[(dialect.name, wait)] = (
            _pg_sql(dialect, wait=wait) if postgres else _sqlite_sql(dialect)
        )
    if postgres:
        folded = 0
        while True:
            taken = int(conn.execute(text(sql), {"limit": limit}).scalar_one())
            folded += taken
            if taken < limit:
                return folded
    upto, count = conn.execute(text(f"SELECT max(id), count(*) FROM {STAGED}")).one()
    if not count:
        return 0
    conn.execute(text(sql), {"upto": upto})
    conn.execute(text(f"DELETE FROM {STAGED} WHERE id <= :upto"), {"upto": upto})
    return int(count)


class RollupFolder:
    """When this process folds: `FOLD_EVERY` records staged, `FOLD_AFTER_S` after the first,
    and whenever a reader asks (`fold`)."""

    def __init__(
        self,
        writer: LedgerWriter,
        engine: AsyncEngine,
        *,
        every: int = FOLD_EVERY,
        after_s: float = FOLD_AFTER_S,
    ) -> None:
        self._writer = writer
        # PostgreSQL: a fold is a transaction on a connection of its own, beside the writer's
        # (a settlement no longer touches the rollups, and a fold only the facts before it),
        # so a settle never waits for one; SQLite has one writer: the fold is its job.
        self._engine = engine if engine.dialect.name == "postgresql" else None
        self._every = every
        self._after_s = after_s
        self._count = 0  # staged since the last fold began (this process's records)
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        # Closed: no fold begun in the background any more (the writer's close still commits
        # queued settlements, whose hooks report them staged).
        self._closed = False

    def staged(self) -> None:
        """A record's facts were staged and committed (on the event loop's thread)."""
        self._count += 1
        if self._closed:
            return
        if self._task is None and (self._timer is None or self._count >= self._every):
            self._arm()

    def _arm(self) -> None:
        if self._task is not None or self._closed:  # armed again when it ends (if open)
            return
        if self._count >= self._every:
            self._start()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._after_s, self._start)

    def _start(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is None:
            self._task = asyncio.ensure_future(self._background())

    async def _background(self) -> None:
        try:
            await self.fold(wait=False)
        except Exception:  # a fold that failed left its facts staged: the next one takes them
            log.exception("folding the staged rollup facts failed")
        finally:
            self._task = None
            if self._count:  # staged while that fold ran
                self._arm()

    async def fold(self, *, wait: bool = True) -> int:
        """Fold everything staged now, in the writer's next batch; how many facts (`wait`:
        `fold_staged`'s)."""
        self._count = 0
        if self._engine is None:
            return await self._writer.run(lambda tx: fold_staged(tx.conn, wait=wait))
        async with self._engine.begin() as conn:
            return await conn.run_sync(lambda sync: fold_staged(sync, wait=wait))

    async def close(self) -> None:
        """Stop folding in the background (what is staged stays staged: the next start folds
        it); wait for a fold under way."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        task = self._task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
