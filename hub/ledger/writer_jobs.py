"""The ledger writer's jobs and their batch: what a job sees (`Tx`), the groups jobs are
written in (`Group`, `Alone`), and one batch written in one transaction, or each job in its
own when one fails (`write_batch`). The writer that queues them is hub/ledger/writer.py; the
backends that run a batch, hub/ledger/sqlite_writer.py and hub/ledger/engine_writer.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("hub.ledger")
I = TypeVar("I")  # noqa: E741 - an item, as in the typing docs
I_contra = TypeVar("I_contra", contravariant=True)
R = TypeVar("R")


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


class Each:
    """The group of one-off jobs: each item is its own work. `durable`: its batch commits at
    the server's `synchronous_commit` (`run(..., durable=True)`)."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable

    def write(self, tx: Tx, items: Sequence[Callable[[Tx], Any]]) -> list[Any]:
        return [work(tx) for work in items]


EACH = Each()
DURABLE_EACH = Each(durable=True)


@dataclass(slots=True)
class Job(Generic[I, R]):
    group: Group[I, R]
    item: I
    # The outcome, or what `then` makes of it (`LedgerWriter.queue`): the caller's own value.
    future: asyncio.Future[Any]
    outcome: R | None = None
    error: BaseException | None = None
    hooks: list[Callable[[], None]] = field(default_factory=list)
    alone: bool = False  # written as one statement in autocommit (`Alone`)
    # The outcome turned into the future's result once committed (raising: its exception),
    # in place of a second future and a done callback per job.
    then: Callable[[I, R], Any] | None = None


def write_batch(
    conn: Connection,
    jobs: Sequence[Job[Any, Any]],
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
            write_all(tx, jobs)
            in_jobs = False
    except Exception as exc:  # noqa: BLE001 - isolate the failing job below
        if len(jobs) == 1 or not in_jobs or lost_connection(exc):
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
                    write_all(alone, [job])
            except Exception as error:  # noqa: BLE001 - this job's own failure
                job.error, job.outcome = error, None
            else:
                job.error, job.hooks = None, alone._after
        return
    for job in jobs:
        job.error = None
    jobs[0].hooks = tx._after  # run once, whichever job they belong to


def lost_connection(exc: Exception) -> bool:
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def write_all(tx: Tx, jobs: Sequence[Job[Any, Any]]) -> None:
    groups: dict[int, list[Job[Any, Any]]] = {}
    for job in jobs:
        groups.setdefault(id(job.group), []).append(job)
    for members in groups.values():
        outcomes = members[0].group.write(tx, [job.item for job in members])
        for job, outcome in zip(members, outcomes, strict=True):
            job.outcome = outcome


class Backend(Protocol):
    # Every batch is awaited (`write_now` always declines): the writer's task is begun
    # when the first job queues, not from a callback a loop iteration later.
    waits: bool

    def write_now(self, jobs: list[Job[Any, Any]]) -> bool: ...
    async def write(self, jobs: list[Job[Any, Any]]) -> None: ...
    async def close(self) -> None: ...
