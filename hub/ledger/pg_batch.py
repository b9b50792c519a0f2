"""PostgreSQL: a ledger batch's transaction, BEGIN … COMMIT on asyncpg's connection itself.

    write_batch(conn, jobs, transaction("off"))   # conn: an AUTOCOMMIT connection

SQLAlchemy's transaction on asyncpg is asyncpg's `Transaction` begun by the cursor before
the first statement (a round trip of its own), then SET LOCAL (another), then COMMIT through
the adapter. Here the connection is in autocommit, so neither SQLAlchemy nor the adapter
begins anything, and the batch's transaction is ours: BEGIN and the level for this
transaction go in one simple-query round trip, the jobs' statements follow (precompiled ones
straight on the driver, hub/ledger/pg_driver.py; any other through SQLAlchemy's cursor, inside
the same server transaction), then COMMIT. As the SQLite writer's `driver_transaction`
(hub/ledger/sqlite_writer.py).

A failure rolls the server's transaction back; one that leaves the connection's state unknown
(a ROLLBACK that fails, a cancellation mid-statement) invalidates the connection, so the pool
never hands out a connection with a transaction still open. A lost connection comes out as
SQLAlchemy's error with `connection_invalidated` (the writer fails the batch's jobs;
`HeldConnection` takes a new connection for the next batch: no pre-ping).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine

from hub.ledger import pg_driver
from hub.ledger.precompiled import translated


@cache  # one per level, not a closure per batch
def transaction(level: str | None) -> Callable[[Connection], AbstractContextManager[None]]:
    """The batch's transaction at `synchronous_commit` `level` (None: the server's)."""
    begin = "BEGIN" if level is None else f"BEGIN; SET LOCAL synchronous_commit TO {level}"

    @contextmanager
    def driven(conn: Connection) -> Iterator[None]:
        adapted = pg_driver.direct(conn)
        if adapted is None or not adapted.autocommit:
            raise TypeError("a ledger batch's connection must be asyncpg's, in autocommit")
        _run(conn, adapted, begin)
        try:
            yield
        except Exception:
            _abandon(conn, adapted)
            raise
        except BaseException:  # cancelled mid-statement: the protocol's state is unknown
            conn.invalidate()
            raise
        try:
            _run(conn, adapted, "COMMIT")
        except Exception:
            _abandon(conn, adapted)
            raise
        except BaseException:
            conn.invalidate()
            raise
        if conn.in_transaction():  # SQLAlchemy's autobegun no-op transaction (autocommit)
            conn.commit()

    return driven


def _run(conn: Connection, adapted: Any, sql: str) -> None:
    try:
        pg_driver.simple(adapted, sql)
    except conn.dialect.loaded_dbapi.Error as error:
        raise translated(conn, None, sql, (), error) from error


def _abandon(conn: Connection, adapted: Any) -> None:
    """Roll the server's transaction back, if it is still open; if that fails, the
    connection goes (invalidated), never back to the pool mid-transaction."""
    if conn.invalidated or pg_driver.closed(adapted):
        return
    if conn.in_transaction():
        conn.rollback()  # SQLAlchemy's bookkeeping only: the adapter has no transaction
    try:
        if pg_driver.in_transaction(adapted):
            pg_driver.simple(adapted, "ROLLBACK")
    except Exception as error:  # noqa: BLE001 - the original error is the one raised
        conn.invalidate(error)


class HeldConnection:
    """The ledger writer's one connection on PostgreSQL, checked out of the engine's pool once
    and kept across batches (the writer writes one batch at a time): a checkout and a return
    per batch (the pool's events, its isolation level set and reset) cost about a quarter of
    a batch of one's Python. Taken anew, from the pool, when it is gone: invalidated by a lost
    connection (a batch failed on it), closed by the server while idle (seen before the batch
    is sent, so no batch fails for it), the pool disposed (new connections read the
    database's settings again), or older than the pool's `pool_recycle`. Used only inside the
    writer's greenlet."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None
        self._pool: object = None
        self._since = 0.0

    def connection(self) -> Connection:
        conn = self._conn
        if conn is not None and self._usable(conn):
            return conn
        self.close()
        self._conn = conn = self._engine.connect()
        self._pool, self._since = self._engine.pool, time.monotonic()
        return conn

    def _usable(self, conn: Connection) -> bool:
        if conn.closed or conn.invalidated or self._engine.pool is not self._pool:
            return False
        recycle = getattr(self._pool, "_recycle", -1)
        if 0 <= recycle < time.monotonic() - self._since:
            return False
        adapted = pg_driver.direct(conn)
        if adapted is None or pg_driver.closed(adapted):
            conn.invalidate()
            return False
        return True

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            conn.close()
