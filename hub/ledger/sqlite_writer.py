"""The SQLite file's writer backend: one dedicated connection, batches on the event loop's
thread while the write lock is free at once, else on a thread of its own that waits for it
(see hub/ledger/writer.py for the whole picture)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, pool
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.ledger.precompiled import translated
from hub.ledger.writer_jobs import Job, write_batch

log = logging.getLogger("hub.ledger")


@contextmanager
def driver_transaction(conn: Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT on the pysqlite connection itself: a SQLAlchemy transaction
    (its Transaction object, events, listener) cost more Python than the batch's statements
    on the driver's cursor. A job that uses `conn.execute` makes SQLAlchemy autobegin (a
    no-op for pysqlite, which leaves transactions to us); ending it ends ours. Driver errors
    come out as SQLAlchemy's (`OperationalError` for a locked database), as from
    `conn.execute`."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    try:
        raw.execute("BEGIN IMMEDIATE")  # the write lock up front: never locked half-way
    except sqlite3.Error as error:
        raise translated(conn, None, "BEGIN IMMEDIATE", (), error) from error
    try:
        yield
    except BaseException:
        if conn.in_transaction():
            conn.rollback()
        elif raw.in_transaction:
            raw.rollback()
        raise
    try:
        if conn.in_transaction():
            conn.commit()
        else:
            raw.commit()
    except sqlite3.Error as error:
        if raw.in_transaction:
            raw.rollback()
        raise translated(conn, None, "COMMIT", (), error) from error
    except DBAPIError:
        if raw.in_transaction:
            raw.rollback()
        raise


def busy(error: BaseException | None) -> bool:
    """SQLite's write lock was taken (by another process) when BEGIN IMMEDIATE asked."""
    return isinstance(error, OperationalError) and "locked" in str(error.orig)


BUSY_WAIT_MS = 30_000  # how long a batch on the writer's thread waits for the write lock
CHECKPOINT_EVERY = 50  # inline batches between two WAL checkpoints (on a thread)
CATCH_UP_PASSES = 4  # checkpoint passes at most, while batches keep writing during them
WAL_LIMIT_FRAMES = 4096  # ~16 MB of WAL: past it, one checkpoint that holds the writers off
RESTART_WAIT_MS = 100  # how long that one waits for the writer and the readers


class SqliteFile:
    """The one writer connection to a SQLite file: batches on the event loop's thread while
    the write lock is free at once, else on a thread of its own that waits for it."""

    def __init__(self, engine: AsyncEngine, *, synchronous: str) -> None:
        # `full` fsyncs on every commit: that stays off the event loop, on the thread.
        self._inline = synchronous != "full"
        self.waits = not self._inline  # `full`: every batch on the thread (hub/ledger/writer.py)
        # Inline, BEGIN IMMEDIATE must not wait: the busy timeout is 0, set once, and the
        # thread sets it to BUSY_WAIT_MS only around a batch that waits (the rare case).
        busy_ms = 0 if self._inline else BUSY_WAIT_MS
        url = engine.url.set(drivername="sqlite+pysqlite")
        self._engine: Engine = create_engine(
            url,
            poolclass=pool.StaticPool,  # the one connection, always this thread's
            connect_args={"timeout": busy_ms / 1000, "check_same_thread": False},
        )
        event.listen(self._engine, "connect", pragmas(synchronous, busy_ms))
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="hub-ledger-writer")
        self._conn: Connection | None = None
        self._closed = False
        self.waited = 0  # batches that found the write lock taken (bench/ and tests read it)
        # Inline, a commit must not run SQLite's automatic checkpoint on the event loop (it
        # copies the WAL into the database and fsyncs it: milliseconds, every ~1000 pages,
        # the p99); the writer's connection has it off and a PASSIVE checkpoint runs on a
        # connection and thread of its own every CHECKPOINT_EVERY batches, beside the
        # writer (it waits for no lock).
        self._database = str(url.database)
        self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="hub-ledger-checkpoint")
        self._checkpointing: Future[None] | None = None
        self._since_checkpoint = 0
        self.checkpoints = 0
        # Batches begun and ended (either thread): a checkpoint pass during which none was
        # written left the whole WAL in the database, so the next batch starts it over.
        self._begun = 0
        self._ended = 0
        self.restarts = 0  # checkpoints that had to hold the writers off (WAL_LIMIT_FRAMES)

    def write_now(self, jobs: list[Job[Any, Any]]) -> bool:
        """The batch on the event loop's own thread if the write lock is free this instant
        (False: it is not; nothing was written, `write` waits for it on the thread).

        A batch is a few hundred microseconds of mostly Python work holding the GIL either
        way; the hand-off to the writer thread and back cost more than that, and on a loaded
        machine the thread's wake-up waits for a core. With `synchronous=NORMAL` a WAL commit
        does not fsync (a checkpoint now and then does), so only a lock held elsewhere could
        stall the loop: BEGIN IMMEDIATE does not wait (busy timeout 0). The writer's batches
        are sequential, so the connection is never used by both threads at once."""
        if not self._inline:
            return False
        self._begun += 1
        try:
            write_batch(self._connection(), jobs, driver_transaction)
        finally:
            self._ended += 1
        if all(busy(job.error) for job in jobs):
            self.waited += 1
            return False  # BEGIN IMMEDIATE found the lock taken: nothing of it was written
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY and (
            self._checkpointing is None or self._checkpointing.done()
        ):
            self._since_checkpoint = 0
            self._checkpointing = self._checkpointer.submit(self._checkpoint)
        return True

    def _checkpoint(self) -> None:
        """Copy what the WAL holds into the database, without waiting for anyone (on the
        checkpoint thread; what readers still need waits for the next one).

        SQLite starts the WAL over (writes it from its first frame again) only when a batch
        begins with all of it copied; one that began during the pass appends to it instead,
        and under steady traffic every pass overlaps a batch: the WAL grew by every commit,
        without end (bench/ledger_batches.py: 22 MB after 620 batches, ~9 frames each). So
        the pass is repeated while batches were written during it (each copies only those);
        should they never leave it a pass alone (sustained load) and the WAL pass
        `WAL_LIMIT_FRAMES`, one last pass holds the writers off (RESTART: the batch that
        meets it waits on the writer's thread, once per ~16 MB of WAL)."""
        try:
            uri = self._database.startswith("file:")
            with contextlib.closing(sqlite3.connect(self._database, timeout=0, uri=uri)) as conn:
                for _ in range(CATCH_UP_PASSES):
                    ended = self._ended
                    idle = self._begun == ended  # no batch under way as the pass starts
                    _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames != copied or (idle and self._begun == ended):
                        break  # a reader needs older frames (the next time), or all copied
                    if frames > WAL_LIMIT_FRAMES:
                        conn.execute(f"PRAGMA busy_timeout={RESTART_WAIT_MS}")
                        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
                        self.restarts += not busy
                        break
            self.checkpoints += 1
        except sqlite3.Error:
            log.info("a WAL checkpoint failed; the next one tries again", exc_info=True)

    async def write(self, jobs: list[Job[Any, Any]]) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._write, jobs)

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self._engine.connect()
        return self._conn

    def _write(self, jobs: list[Job[Any, Any]]) -> None:
        conn = self._connection()
        if not self._inline:
            write_batch(conn, jobs, driver_transaction)
            return
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")
        self._begun += 1
        try:
            write_batch(conn, jobs, driver_transaction)
        finally:
            self._ended += 1
            raw.execute("PRAGMA busy_timeout=0")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=True)
        await loop.run_in_executor(None, self._checkpointer.shutdown)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._engine.dispose()


def pragmas(synchronous: str, busy_ms: int) -> Callable[[Any, Any], None]:
    def apply(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are ours (BEGIN IMMEDIATE, `driver_transaction`), not pysqlite's.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        if synchronous != "full":  # inline commits: checkpoints on their own thread instead
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    return apply
