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

Backends (hub/ledger/sqlite_writer.py, engine_writer.py; the batch itself, writer_jobs.py):
SQLite (a file) gets a dedicated writer connection (WAL); its transactions are
BEGIN IMMEDIATE … COMMIT on the driver connection itself (`driver_transaction`), and a
batch runs on the event loop's thread, flushed by a plain loop callback, when the write lock
is free at once (`synchronous=NORMAL`: no fsync per commit; busy timeout 0, set once), else
on a thread of its own that waits for the lock (a task then, and the busy timeout raised
around that batch only), so a batch costs at most one thread hop whatever its statements;
readers use other connections, and the hub's background writers (health counts, the
instance heartbeat) write in the writer's batches rather than taking the lock on another
connection. PostgreSQL (and SQLite `full`, on its thread; SQLite in memory, on the engine's
connection, `run_sync`) awaits every batch: the writer's task, begun as the first job queues
(its first step is the next loop iteration, so the iteration's jobs still share a batch),
writes the queue's batches one after another. PostgreSQL runs a batch inside one greenlet on
the writer's own autocommit connection of the pool, held across batches and taken anew when
it is gone (hub/ledger/pg_batch.py `HeldConnection`): BEGIN, the statements (the precompiled
ones straight on asyncpg, hub/ledger/pg_driver.py), COMMIT, all on the driver
(hub/ledger/pg_batch.py). On PostgreSQL
a batch of one job whose group is `Alone` (a reservation, a settlement: every job at
concurrency 1) is first tried as that group's single statement in autocommit, which commits
all of the job or, failing, nothing; the job is then written as above. With
`synchronous_commit` off, a batch without a durable job sets it for its own transaction:
inside the single statement (`SYNC_COMMIT`, no round trip more), or by SET LOCAL in BEGIN's
own round trip.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast, overload

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.ledger.engine_writer import OnEngine
from hub.ledger.sqlite_writer import CHECKPOINT_EVERY, SqliteFile
from hub.ledger.writer_jobs import (
    DURABLE_EACH,
    EACH,
    NOT_ALONE,
    SYNC_COMMIT,
    Alone,
    Backend,
    Group,
    Job,
    Tx,
)

__all__ = ["CHECKPOINT_EVERY", "NOT_ALONE", "SYNC_COMMIT", "Alone", "Group", "LedgerWriter", "Tx"]

log = logging.getLogger("hub.ledger")
I = TypeVar("I")  # noqa: E741 - an item, as in the typing docs
R = TypeVar("R")
T = TypeVar("T")
MAX_BATCH = 256  # jobs per transaction: bounds a batch's latency under a flood


class LedgerWriter:
    def __init__(
        self, engine: AsyncEngine, *, synchronous: str = "normal", synchronous_commit: str = "on"
    ) -> None:
        """`synchronous`: SQLite's (`[database] sqlite_synchronous`); `synchronous_commit`:
        PostgreSQL's for the writer's own transactions (`postgres_synchronous_commit`)."""
        database = engine.url.database
        self._backend: Backend
        if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:"):
            self._backend = SqliteFile(engine, synchronous=synchronous)
        else:
            self._backend = OnEngine(engine, synchronous_commit=synchronous_commit)
        self._queue: list[Job[Any, Any]] = []
        self._flushing = False  # a flush is scheduled or running: new jobs only queue
        self._flusher: asyncio.Task[None] | None = None  # a batch waiting (lock, network)
        # The batch handed to a `_flush_waiting` task, until that task has written or failed
        # it: put back at the queue's head if the task is cancelled before its first step.
        self._in_hand: list[Job[Any, Any]] = []
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

    @overload
    def queue(self, group: Group[I, R], item: I) -> asyncio.Future[R]: ...
    @overload
    def queue(
        self, group: Group[I, R], item: I, then: Callable[[I, R], T]
    ) -> asyncio.Future[T]: ...

    def queue(
        self, group: Group[I, R], item: I, then: Callable[[I, R], Any] | None = None
    ) -> asyncio.Future[Any]:
        """`submit` without awaiting: the job is queued; its future is done once committed.
        `then(item, outcome)`: the future's result instead of the outcome (what it raises,
        its exception), worked out as the batch's results are handed out."""
        loop = asyncio.get_running_loop()
        job: Job[I, R] = Job(group, item, loop.create_future(), then=then)
        self._queue.append(job)
        if not self._flushing:
            self._schedule(loop)
        elif self._flusher is not None and self._flusher.done():
            self._reclaim()
            self._schedule(loop)
        return job.future

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        # On the next loop iteration (whatever else is queued by then joins): as a plain
        # callback, no task per batch, where a batch may be written at once (SQLite);
        # where every batch waits (PostgreSQL, SQLite `full`), as the task that writes it,
        # begun now: its first step is that same next iteration, where a callback that
        # then created the task cost one more iteration before the first statement went.
        self._flushing = True
        if self._backend.waits:
            self._flusher = self._flush_queued_task()
        else:
            loop.call_soon(self._flush_now)

    def _reclaim(self) -> None:
        """The writer's task ended without ending the flush: cancelled (the loop shutting
        down, a test's teardown) before its first step, or while it wrote. A batch it held
        unwritten goes back to the queue's head (a batch it was writing has failed, its
        callers told); the next `queue` or `close` writes the queue."""
        held, self._in_hand = self._in_hand, []
        self._queue[:0] = held
        self._flusher, self._flushing = None, False

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
                self._in_hand = jobs
                self._flusher = loop.create_task(self._flush_waiting(jobs), name="hub-ledger")
                return
            self._done(jobs)
        self._flushing = False

    def _flush_queued_task(self) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(self._flush_queued(), name="hub-ledger")

    async def _flush_queued(self) -> None:
        """A backend whose batches all wait: the queue's batches one after another, in this
        one task, until it is empty (jobs queued while a batch is written go into the next)."""
        while self._queue:
            jobs, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                await self._backend.write(jobs)
            except BaseException as exc:  # the backend itself failed: no job was written
                self._failed(jobs, exc)
                if not isinstance(exc, Exception):
                    self._flusher, self._flushing = None, False
                    raise
                continue
            self._done(jobs)
        self._flusher, self._flushing = None, False

    async def _flush_waiting(self, jobs: list[Job[Any, Any]]) -> None:
        try:
            await self._backend.write(jobs)
        except BaseException as exc:  # the backend itself failed: no job was written
            self._in_hand = []
            self._failed(jobs, exc)
            if not isinstance(exc, Exception):
                self._flusher, self._flushing = None, False
                raise
        else:
            self._in_hand = []
            self._done(jobs)
        self._flusher = None
        self._flush_now()  # what queued meanwhile: at once again if the lock is free

    def _failed(self, jobs: list[Job[Any, Any]], exc: BaseException) -> None:
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(
                    exc if isinstance(exc, Exception) else RuntimeError(str(exc))
                )

    def _done(self, jobs: list[Job[Any, Any]]) -> None:
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
            elif job.then is None:
                job.future.set_result(job.outcome)
            else:
                try:
                    result = job.then(job.item, cast(Any, job.outcome))
                except Exception as error:  # noqa: BLE001 - handed on as the job's outcome
                    job.future.set_exception(error)
                else:
                    job.future.set_result(result)

    async def close(self) -> None:
        """Write what is queued, then release the connection."""
        self.closed = True
        while self._flushing or self._queue:
            flusher = self._flusher
            if not self._flushing:
                # Jobs queued with no flush to write them (its task was cancelled while it
                # wrote): written from here.
                self._schedule(asyncio.get_running_loop())
            elif flusher is None:
                await asyncio.sleep(0)  # the scheduled flush runs on the next iteration
            elif flusher.done():
                self._reclaim()  # cancelled before it ended the flush: see `_reclaim`
            else:
                await asyncio.gather(flusher, return_exceptions=True)
        await self._backend.close()
