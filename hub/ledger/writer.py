"""Group commit: the ledger's writes, queued by concurrent requests, share one transaction.

    hold = await writer.submit(RESERVE, item)      # durable once this returns
    await writer.run(lambda tx: tx.conn.execute(...))

A job is plain synchronous SQLAlchemy Core work on a `Connection` (statements built once at
import, so SQLAlchemy compiles each once per process). Jobs submitted while a batch is being
written, or within one event-loop iteration, go into the next batch: one transaction, one
commit (one fsync, one WAL append), one hand-off to the database thread or one connection
checkout, however many requests it carries. Jobs of the same `Group` are handed over together
so that, for instance, all settlements of a batch release their holds in one DELETE and
insert their usage records in one INSERT.

A failing job must not lose or double another request's record: if a job's statement raises
(a constraint, a deadlock between processes), the whole transaction is rolled back and every
job of it is run again in a transaction of its own, so only the failing one fails. When no job
is to blame (BEGIN or COMMIT failed: the database locked past its timeout, a full disk, the
server gone), every job of the batch fails at once and its caller retries or journals it
(hub/ledger/settlements.py); nothing of the batch was written.
Jobs must therefore be pure database work (they may run twice, and only one run commits).
`submit` returns only after COMMIT, so an answered request's record is committed: as durable
as `[database] sqlite_synchronous` makes it on SQLite, `postgres_synchronous_commit` on
PostgreSQL (off by default: the record survives a kill -9 of the hub, not a crash of the
server or its OS; delivery claims always wait for the server's WAL flush, `durable`).

Backends: SQLite (a file) gets a dedicated writer connection (WAL); its transactions are
BEGIN IMMEDIATE … COMMIT on the driver connection itself (`_driver_transaction`), and a
batch runs on the event loop's thread, flushed by a plain loop callback, when the write lock
is free at once (`synchronous=NORMAL`: no fsync per commit; busy timeout 0, set once), else
on a thread of its own that waits for the lock (a task then, and the busy timeout raised
around that batch only), so a batch costs at most one thread hop whatever its statements;
readers use other connections, and the hub's background writers (health counts, the
instance heartbeat) write in the writer's batches rather than taking the lock on another
connection. SQLite in memory runs the batch on the engine's connection (`run_sync`).
PostgreSQL runs it inside one greenlet on the writer's own autocommit connection of the
pool, held across batches and taken anew when it is gone (hub/ledger/pg_batch.py
`HeldConnection`): BEGIN, the statements (the precompiled ones straight on asyncpg,
hub/ledger/pg_driver.py), COMMIT, all on the driver (hub/ledger/pg_batch.py). On PostgreSQL
a batch of one job whose group is `Alone` (a reservation, a settlement: every job at
concurrency 1) is first tried as that group's single statement in autocommit, which commits
all of the job or, failing, nothing; the job is then written as above. With
`synchronous_commit` off, a batch without a durable job sets it for its own transaction:
inside the single statement (`SYNC_COMMIT`, no round trip more), or by SET LOCAL in BEGIN's
own round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, pool
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from hub.ledger import pg_batch
from hub.ledger.precompiled import translated

log = logging.getLogger("hub.ledger")
I = TypeVar("I")  # noqa: E741 - an item, as in the typing docs
I_contra = TypeVar("I_contra", contravariant=True)
R = TypeVar("R")
T = TypeVar("T")
MAX_BATCH = 256  # jobs per transaction: bounds a batch's latency under a flood


class Tx:
    """What a job sees: the batch's connection, its dialect, and work for after COMMIT.
    `synchronous_commit`: PostgreSQL, the level an `Alone` statement sets for its own
    transaction (`SYNC_COMMIT` in it); None: the server's."""

    __slots__ = ("_after", "conn", "dialect", "synchronous_commit")

    def __init__(self, conn: Connection, synchronous_commit: str | None = None) -> None:
        self.conn = conn
        self.dialect: str = conn.dialect.name
        self.synchronous_commit = synchronous_commit
        self._after: list[Callable[[], None]] = []

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` once the transaction committed (never if it rolled back)."""
        self._after.append(hook)


class Group(Protocol[I_contra, R]):
    """Jobs of one kind written together: one outcome per item, in order."""

    def write(self, tx: Tx, items: Sequence[I_contra]) -> list[R]: ...


class Alone(Protocol[I_contra, R]):
    """A group whose job, when it is a batch's only one, may be written as one statement
    outside a transaction (PostgreSQL: autocommit, one round trip instead of BEGIN, the
    statements and COMMIT). `write_alone` either commits the job's whole work in that one
    statement, or raises and so writes nothing (the server rolls the statement back whole),
    or returns NOT_ALONE without a statement; the writer then writes it as usual."""

    def write(self, tx: Tx, items: Sequence[I_contra]) -> list[R]: ...
    def write_alone(self, tx: Tx, item: I_contra) -> R | object: ...


NOT_ALONE = object()  # write_alone's answer: this job needs the transaction
# What an `Alone` statement selects so that its own transaction commits at the writer's
# `synchronous_commit` (a NULL level keeps the server's: the setting set to itself). The
# level in force at COMMIT decides, and a transaction-local setting ends with it.
SYNC_COMMIT = (
    "set_config('synchronous_commit', "
    "COALESCE(CAST(:synchronous_commit AS TEXT), current_setting('synchronous_commit')), true)"
)


class _Each:
    """The group of one-off jobs: each item is its own work. `durable`: its batch commits at
    the server's `synchronous_commit` (`run(..., durable=True)`)."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable

    def write(self, tx: Tx, items: Sequence[Callable[[Tx], Any]]) -> list[Any]:
        return [work(tx) for work in items]


EACH = _Each()
DURABLE_EACH = _Each(durable=True)


@dataclass(slots=True)
class _Job(Generic[I, R]):
    group: Group[I, R]
    item: I
    future: asyncio.Future[R]
    outcome: R | None = None
    error: BaseException | None = None
    hooks: list[Callable[[], None]] = field(default_factory=list)
    alone: bool = False  # written as one statement in autocommit (`Alone`)


def write_batch(
    conn: Connection,
    jobs: Sequence[_Job[Any, Any]],
    begin: Callable[[Connection], AbstractContextManager[object]] = Connection.begin,
) -> None:
    """Write `jobs` in one transaction; if a job's statement fails, each in its own
    (synchronous: on the event loop's thread, the writer's thread, or inside `run_sync`).
    Outcomes and errors land on the jobs. `begin`: the transaction (SQLAlchemy's, or the
    SQLite writer's on its driver connection)."""
    tx = Tx(conn)
    in_jobs = False
    try:
        with begin(conn):
            in_jobs = True
            _write_all(tx, jobs)
            in_jobs = False
    except Exception as exc:  # noqa: BLE001 - isolate the failing job below
        if len(jobs) == 1 or not in_jobs or _lost_connection(exc):
            # No job is to blame (BEGIN or COMMIT failed: locked, disk, the server gone):
            # every job fails now, to be retried or journaled by its caller, rather than
            # each waiting out the same lock again alone.
            for job in jobs:
                job.error, job.outcome = exc, None
            return
        log.info("a ledger batch of %d failed (%s); writing each alone", len(jobs), exc)
        for job in jobs:
            alone = Tx(conn)
            try:
                with begin(conn):
                    _write_all(alone, [job])
            except Exception as error:  # noqa: BLE001 - this job's own failure
                job.error, job.outcome = error, None
            else:
                job.error, job.hooks = None, alone._after
        return
    for job in jobs:
        job.error = None
    jobs[0].hooks = tx._after  # run once, whichever job they belong to


@contextmanager
def _driver_transaction(conn: Connection) -> Iterator[None]:
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


def _busy(error: BaseException | None) -> bool:
    """SQLite's write lock was taken (by another process) when BEGIN IMMEDIATE asked."""
    return isinstance(error, OperationalError) and "locked" in str(error.orig)


def _lost_connection(exc: Exception) -> bool:
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _write_all(tx: Tx, jobs: Sequence[_Job[Any, Any]]) -> None:
    groups: dict[int, list[_Job[Any, Any]]] = {}
    for job in jobs:
        groups.setdefault(id(job.group), []).append(job)
    for members in groups.values():
        outcomes = members[0].group.write(tx, [job.item for job in members])
        for job, outcome in zip(members, outcomes, strict=True):
            job.outcome = outcome


class _Backend(Protocol):
    def write_now(self, jobs: list[_Job[Any, Any]]) -> bool: ...
    async def write(self, jobs: list[_Job[Any, Any]]) -> None: ...
    async def close(self) -> None: ...


def _write_alone(conn: Connection, job: _Job[Any, Any], synchronous_commit: str | None) -> bool:
    """The batch's one job as its group's single statement, in autocommit (`Alone`). False:
    nothing was written (the group declined, or the statement failed and the server rolled
    it back whole): write it as usual. A lost connection fails the job as a batch's would
    (whether the statement committed is unknown, as with a lost COMMIT: the caller retries,
    and settle is idempotent by request id)."""
    tx = Tx(conn, synchronous_commit)
    try:
        outcome = job.group.write_alone(tx, job.item)  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - the usual path reports the job's own error
        if _lost_connection(exc):
            job.error, job.outcome = exc, None
            return True
        log.debug("a ledger job alone failed (%s); writing it in a transaction", exc)
        return False
    if outcome is NOT_ALONE:
        return False
    job.outcome, job.error, job.hooks = outcome, None, tx._after
    job.alone = True
    return True


class _OnEngine:
    """A connection of the hub's async engine's pool (PostgreSQL: the writer's own, held
    across batches, hub/ledger/pg_batch.py `HeldConnection`). A batch of one
    job whose group can write it as one statement (`Alone`: a reservation, a settlement) is
    that statement in autocommit: one round trip, its own commit, instead of three to five.

    `synchronous_commit` "off": the writer's transactions do not wait for the WAL flush,
    each setting it for itself (a statement's `SYNC_COMMIT`; SET LOCAL with a batch's
    BEGIN), so the hub's other work on the same pooled connections keeps the server's."""

    def __init__(self, engine: AsyncEngine, *, synchronous_commit: str = "on") -> None:
        self._engine = engine
        postgres = engine.dialect.name == "postgresql"
        self._level = "off" if postgres and synchronous_commit == "off" else None
        self.asynchronous = 0  # batches committed without waiting for the WAL flush
        self._autocommit = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else None
        )
        if self._autocommit is not None:
            self._held = pg_batch.HeldConnection(self._autocommit.sync_engine)

    def write_now(self, jobs: list[_Job[Any, Any]]) -> bool:
        return False  # network round trips: always awaited

    async def write(self, jobs: list[_Job[Any, Any]]) -> None:
        level = self._level
        if level is not None and any(getattr(job.group, "durable", False) for job in jobs):
            level = None  # a delivery claim: a lost one would answer a retry twice
        if level is not None:
            self.asynchronous += 1
        if self._autocommit is not None:
            # One greenlet for the checkout, the statements and the return (not three).
            await greenlet_spawn(self._write_pg, jobs, level)
            return
        async with self._engine.connect() as conn:
            await conn.run_sync(write_batch, jobs)

    def _write_pg(self, jobs: list[_Job[Any, Any]], level: str | None) -> None:
        """PostgreSQL, inside the greenlet: the writer's autocommit connection, the batch's
        only job first as one statement (`Alone`), else the batch in a transaction begun and
        committed on the driver (hub/ledger/pg_batch.py)."""
        conn = self._held.connection()
        if len(jobs) == 1 and hasattr(jobs[0].group, "write_alone"):
            if _write_alone(conn, jobs[0], level):
                return
        write_batch(conn, jobs, pg_batch.transaction(level))

    async def close(self) -> None:
        if self._autocommit is not None:
            await greenlet_spawn(self._held.close)


BUSY_WAIT_MS = 30_000  # how long a batch on the writer's thread waits for the write lock
CHECKPOINT_EVERY = 50  # inline batches between two WAL checkpoints (on a thread)


class _SqliteFile:
    """The one writer connection to a SQLite file: batches on the event loop's thread while
    the write lock is free at once, else on a thread of its own that waits for it."""

    def __init__(self, engine: AsyncEngine, *, synchronous: str) -> None:
        # `full` fsyncs on every commit: that stays off the event loop, on the thread.
        self._inline = synchronous != "full"
        # Inline, BEGIN IMMEDIATE must not wait: the busy timeout is 0, set once, and the
        # thread sets it to BUSY_WAIT_MS only around a batch that waits (the rare case).
        busy_ms = 0 if self._inline else BUSY_WAIT_MS
        url = engine.url.set(drivername="sqlite+pysqlite")
        self._engine: Engine = create_engine(
            url,
            poolclass=pool.StaticPool,  # the one connection, always this thread's
            connect_args={"timeout": busy_ms / 1000, "check_same_thread": False},
        )
        event.listen(self._engine, "connect", _pragmas(synchronous, busy_ms))
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

    def write_now(self, jobs: list[_Job[Any, Any]]) -> bool:
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
        write_batch(self._connection(), jobs, _driver_transaction)
        if all(_busy(job.error) for job in jobs):
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
        checkpoint thread; what readers still need waits for the next one)."""
        try:
            uri = self._database.startswith("file:")
            with contextlib.closing(sqlite3.connect(self._database, timeout=0, uri=uri)) as conn:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error:
            log.info("a WAL checkpoint failed; the next one tries again", exc_info=True)

    async def write(self, jobs: list[_Job[Any, Any]]) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._write, jobs)

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self._engine.connect()
        return self._conn

    def _write(self, jobs: list[_Job[Any, Any]]) -> None:
        conn = self._connection()
        if not self._inline:
            write_batch(conn, jobs, _driver_transaction)
            return
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")
        try:
            write_batch(conn, jobs, _driver_transaction)
        finally:
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


def _pragmas(synchronous: str, busy_ms: int) -> Callable[[Any, Any], None]:
    def apply(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are ours (BEGIN IMMEDIATE, `_driver_transaction`), not pysqlite's.
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


class LedgerWriter:
    def __init__(
        self, engine: AsyncEngine, *, synchronous: str = "normal", synchronous_commit: str = "on"
    ) -> None:
        """`synchronous`: SQLite's (`[database] sqlite_synchronous`); `synchronous_commit`:
        PostgreSQL's for the writer's own transactions (`postgres_synchronous_commit`)."""
        database = engine.url.database
        self._backend: _Backend
        if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:"):
            self._backend = _SqliteFile(engine, synchronous=synchronous)
        else:
            self._backend = _OnEngine(engine, synchronous_commit=synchronous_commit)
        self._queue: list[_Job[Any, Any]] = []
        self._flushing = False  # a flush is scheduled or running: new jobs only queue
        self._flusher: asyncio.Task[None] | None = None  # a batch waiting (lock, network)
        self.batches = 0  # transactions written (bench/ and tests read it)
        self.jobs = 0
        self.alone = 0  # of the batches, jobs written alone in autocommit (PostgreSQL)
        self.closed = False

    async def checkpointed(self) -> int:
        """SQLite: once the WAL checkpoint under way (if any) is done, how many ran."""
        running = getattr(self._backend, "_checkpointing", None)
        if running is not None:
            await asyncio.wrap_future(running)
        return int(getattr(self._backend, "checkpoints", 0))

    @property
    def asynchronous(self) -> int:
        """PostgreSQL: batches committed with `synchronous_commit=off` (tests read it)."""
        return int(getattr(self._backend, "asynchronous", 0))

    @property
    def inline(self) -> bool:
        """SQLite (not `full`): a batch runs on the loop's thread, from a callback scheduled
        when its first job queued, so a job queued now is usually committed by the time a
        task that yields once resumes."""
        return bool(getattr(self._backend, "_inline", False))

    @property
    def waited(self) -> int:
        """SQLite: batches that found the write lock taken and waited for it on the thread."""
        return getattr(self._backend, "waited", 0)

    async def submit(self, group: Group[I, R], item: I) -> R:
        """Write `item` with the next batch; its outcome once the batch committed."""
        # A caller that goes away does not take the job with it: it is queued, so it commits
        # regardless (its future, cancelled with the caller, is skipped when results are
        # handed out). No `asyncio.shield`: that layer cost a future and a loop iteration
        # per call for the same outcome.
        return await self.queue(group, item)

    def queue(self, group: Group[I, R], item: I) -> asyncio.Future[R]:
        """`submit` without awaiting: the job is queued; its future is done once committed."""
        loop = asyncio.get_running_loop()
        job: _Job[I, R] = _Job(group, item, loop.create_future())
        self._queue.append(job)
        if not self._flushing:
            # On the next loop iteration (whatever else is queued by then joins), as a plain
            # callback: no task per batch unless it has to wait.
            self._flushing = True
            loop.call_soon(self._flush_now)
        return job.future

    async def run(self, work: Callable[[Tx], T], *, durable: bool = False) -> T:
        """One-off work in the next batch; its return value once committed. `durable`: the
        batch waits for the server's WAL flush whatever `synchronous_commit` says."""
        outcome: T = await self.submit(DURABLE_EACH if durable else EACH, work)
        return outcome

    def _flush_now(self) -> None:
        """Write the queue's batches here while the backend can at once; the first that has
        to wait goes to a task (`_flush_waiting`), which carries on with the rest."""
        while self._queue:
            jobs, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                written = self._backend.write_now(jobs)
            except BaseException as exc:  # the backend itself failed: no job was written
                self._failed(jobs, exc)
                if not isinstance(exc, Exception):
                    self._flushing = False
                    raise
                continue
            if not written:
                loop = asyncio.get_running_loop()
                self._flusher = loop.create_task(self._flush_waiting(jobs), name="hub-ledger")
                return
            self._done(jobs)
        self._flushing = False

    async def _flush_waiting(self, jobs: list[_Job[Any, Any]]) -> None:
        try:
            await self._backend.write(jobs)
        except BaseException as exc:  # the backend itself failed: no job was written
            self._failed(jobs, exc)
            if not isinstance(exc, Exception):
                self._flushing = False
                raise
        else:
            self._done(jobs)
        self._flusher = None
        self._flush_now()  # what queued meanwhile: at once again if the lock is free

    def _failed(self, jobs: list[_Job[Any, Any]], exc: BaseException) -> None:
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(
                    exc if isinstance(exc, Exception) else RuntimeError(str(exc))
                )

    def _done(self, jobs: list[_Job[Any, Any]]) -> None:
        self.batches += 1
        self.jobs += len(jobs)
        self.alone += jobs[0].alone
        for job in jobs:
            for hook in job.hooks:
                try:
                    hook()
                except Exception:  # noqa: BLE001 - bookkeeping after the fact (metrics)
                    log.warning("an after-commit hook failed", exc_info=True)
        for job in jobs:
            if job.future.done():
                continue
            if job.error is not None:
                job.future.set_exception(job.error)
            else:
                job.future.set_result(job.outcome)

    async def close(self) -> None:
        """Write what is queued, then release the connection."""
        self.closed = True
        while self._flushing:
            if self._flusher is not None:
                await asyncio.gather(self._flusher, return_exceptions=True)
            else:
                await asyncio.sleep(0)  # the scheduled flush runs on the next iteration
        await self._backend.close()
