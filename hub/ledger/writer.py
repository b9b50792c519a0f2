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
`submit` returns only after COMMIT, so an answered request's record is on disk (as durable as
`[database] sqlite_synchronous` makes it; PostgreSQL: committed).

Backends: SQLite (a file) gets a dedicated writer connection (WAL, BEGIN IMMEDIATE); a batch
runs on the event loop's thread when the write lock is free at once (`synchronous=NORMAL`:
no fsync per commit), else on a thread of its own that waits for the lock, so a batch costs
at most one thread hop whatever its statements; readers use other connections. PostgreSQL
(and SQLite in memory) run the batch on a pooled connection of the hub's engine
(`run_sync`): one checkout, BEGIN, the statements, COMMIT, and no reset round trip on return
(the driver's rollback after a commit is a no-op).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, pool
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("hub.ledger")
I = TypeVar("I")  # noqa: E741 - an item, as in the typing docs
I_contra = TypeVar("I_contra", contravariant=True)
R = TypeVar("R")
T = TypeVar("T")
MAX_BATCH = 256  # jobs per transaction: bounds a batch's latency under a flood


class Tx:
    """What a job sees: the batch's connection, its dialect, and work for after COMMIT."""

    __slots__ = ("_after", "conn", "dialect")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect: str = conn.dialect.name
        self._after: list[Callable[[], None]] = []

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` once the transaction committed (never if it rolled back)."""
        self._after.append(hook)


class Group(Protocol[I_contra, R]):
    """Jobs of one kind written together: one outcome per item, in order."""

    def write(self, tx: Tx, items: Sequence[I_contra]) -> list[R]: ...


class _Each:
    """The group of one-off jobs: each item is its own work."""

    def write(self, tx: Tx, items: Sequence[Callable[[Tx], Any]]) -> list[Any]:
        return [work(tx) for work in items]


EACH = _Each()


@dataclass(slots=True)
class _Job(Generic[I, R]):
    group: Group[I, R]
    item: I
    future: asyncio.Future[R]
    outcome: R | None = None
    error: BaseException | None = None
    hooks: list[Callable[[], None]] = field(default_factory=list)


def write_batch(conn: Connection, jobs: Sequence[_Job[Any, Any]]) -> None:
    """Write `jobs` in one transaction; if a job's statement fails, each in its own
    (synchronous: on the writer's thread, or inside `run_sync`). Outcomes and errors land on
    the jobs."""
    tx = Tx(conn)
    in_jobs = False
    try:
        with conn.begin():
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
                with conn.begin():
                    _write_all(alone, [job])
            except Exception as error:  # noqa: BLE001 - this job's own failure
                job.error, job.outcome = error, None
            else:
                job.error, job.hooks = None, alone._after
        return
    for job in jobs:
        job.error = None
    jobs[0].hooks = tx._after  # run once, whichever job they belong to


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
    async def write(self, jobs: list[_Job[Any, Any]]) -> None: ...
    async def close(self) -> None: ...


class _OnEngine:
    """A pooled connection of the hub's async engine, per batch (PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def write(self, jobs: list[_Job[Any, Any]]) -> None:
        async with self._engine.connect() as conn:
            await conn.run_sync(write_batch, jobs)

    async def close(self) -> None:
        pass


class _SqliteThread:
    """The one writer connection to a SQLite file, on a thread of its own."""

    def __init__(self, engine: AsyncEngine, *, synchronous: str) -> None:
        url = engine.url.set(drivername="sqlite+pysqlite")
        self._engine: Engine = create_engine(
            url,
            poolclass=pool.StaticPool,  # the one connection, always this thread's
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        event.listen(self._engine, "connect", _pragmas(synchronous))
        event.listen(self._engine, "begin", _begin_immediate)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="hub-ledger-writer")
        self._conn: Connection | None = None
        self._closed = False
        # `full` fsyncs on every commit: that stays off the event loop, on the thread.
        self._inline = synchronous != "full"

    async def write(self, jobs: list[_Job[Any, Any]]) -> None:
        if self._inline and self._write_inline(jobs):
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._write, jobs)

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self._engine.connect()
        return self._conn

    def _write(self, jobs: list[_Job[Any, Any]]) -> None:
        write_batch(self._connection(), jobs)

    def _write_inline(self, jobs: list[_Job[Any, Any]]) -> bool:
        """The batch on the event loop's own thread if the write lock is free this instant
        (False: it is not; nothing was written, the thread waits for it instead).

        A batch is a few hundred microseconds of mostly Python (SQLAlchemy) work holding the
        GIL either way; the hand-off to the writer thread and back cost more than that, and
        on a loaded machine the thread's wake-up waits for a core. With `synchronous=NORMAL`
        a WAL commit does not fsync (a checkpoint now and then does), so only a lock held
        by another process could stall the loop: BEGIN IMMEDIATE is tried without waiting
        (busy_timeout 0), and a busy database goes to the thread, which waits as before.
        The writer's flush is sequential, so the connection is never used by both at once."""
        conn = self._connection()
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA busy_timeout=0")
        try:
            write_batch(conn, jobs)
        finally:
            raw.execute("PRAGMA busy_timeout=30000")
        if all(_busy(job.error) for job in jobs):
            return False  # BEGIN IMMEDIATE found the lock taken: nothing of it was written
        return True

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=True)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._engine.dispose()


def _pragmas(synchronous: str) -> Callable[[Any, Any], None]:
    def apply(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are ours (BEGIN IMMEDIATE below), not pysqlite's.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return apply


def _begin_immediate(conn: Connection) -> None:
    # Take the write lock up front: a batch never fails half-way with "database is locked".
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class LedgerWriter:
    def __init__(self, engine: AsyncEngine, *, synchronous: str = "normal") -> None:
        database = engine.url.database
        self._backend: _Backend
        if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:"):
            self._backend = _SqliteThread(engine, synchronous=synchronous)
        else:
            self._backend = _OnEngine(engine)
        self._queue: list[_Job[Any, Any]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.batches = 0  # transactions written (bench/ and tests read it)
        self.jobs = 0

    async def submit(self, group: Group[I, R], item: I) -> R:
        """Write `item` with the next batch; its outcome once the batch committed."""
        loop = asyncio.get_running_loop()
        job: _Job[I, R] = _Job(group, item, loop.create_future())
        self._queue.append(job)
        if self._flusher is None or self._flusher.done():
            # Starts on the next loop iteration: whatever else is queued by then joins.
            self._flusher = loop.create_task(self._flush(), name="hub-ledger-writer")
        # A caller that goes away does not take the job with it: it is queued, so it commits
        # regardless (its future, cancelled with the caller, is skipped when results are
        # handed out). No `asyncio.shield`: that layer cost a future and a loop iteration
        # per call for the same outcome.
        return await job.future

    async def run(self, work: Callable[[Tx], T]) -> T:
        """One-off work in the next batch; its return value once committed."""
        outcome: T = await self.submit(EACH, work)
        return outcome

    async def _flush(self) -> None:
        while self._queue:
            jobs, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                await self._backend.write(jobs)
            except BaseException as exc:  # the backend itself failed: no job was written
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(
                            exc if isinstance(exc, Exception) else RuntimeError(str(exc))
                        )
                if not isinstance(exc, Exception):
                    raise
                continue
            self.batches += 1
            self.jobs += len(jobs)
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
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self._backend.close()
