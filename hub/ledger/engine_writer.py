"""The writer backend on the hub's async engine: PostgreSQL on the writer's own held
connection (hub/ledger/pg_batch.py), SQLite in memory on the engine's connection (see
hub/ledger/writer.py for the whole picture)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from hub.ledger import pg_batch
from hub.ledger.writer_jobs import NOT_ALONE, Job, Tx, lost_connection, write_batch

log = logging.getLogger("hub.ledger")


def write_alone(conn: Connection, job: Job[Any, Any], synchronous_commit: str | None) -> bool:
    """The batch's one job as its group's single statement, in autocommit (`Alone`). False:
    nothing was written (the group declined, or the statement failed and the server rolled
    it back whole): write it as usual. A lost connection fails the job as a batch's would
    (whether the statement committed is unknown, as with a lost COMMIT: the caller retries,
    and settle is idempotent by request id)."""
    tx = Tx(conn, synchronous_commit)
    try:
        outcome = job.group.write_alone(tx, job.item)  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - the usual path reports the job's own error
        if lost_connection(exc):
            job.error, job.outcome = exc, None
            return True
        log.debug("a ledger job alone failed (%s); writing it in a transaction", exc)
        return False
    if outcome is NOT_ALONE:
        return False
    job.outcome, job.error, job.hooks = outcome, None, tx._after
    job.alone = True
    return True


class OnEngine:
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

    waits = True  # network round trips (or the engine's thread): `write_now` never writes

    def write_now(self, jobs: list[Job[Any, Any]]) -> bool:
        return False  # network round trips: always awaited

    async def write(self, jobs: list[Job[Any, Any]]) -> None:
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

    def _write_pg(self, jobs: list[Job[Any, Any]], level: str | None) -> None:
        """PostgreSQL, inside the greenlet: the writer's autocommit connection, the batch's
        only job first as one statement (`Alone`), else the batch in a transaction begun and
        committed on the driver (hub/ledger/pg_batch.py)."""
        conn = self._held.connection()
        if len(jobs) == 1 and hasattr(jobs[0].group, "write_alone"):
            if write_alone(conn, jobs[0], level):
                return
        write_batch(conn, jobs, pg_batch.transaction(level))

    async def close(self) -> None:
        if self._autocommit is not None:
            await greenlet_spawn(self._held.close)
