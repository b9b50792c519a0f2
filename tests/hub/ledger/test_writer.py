"""The ledger writer (#14.1): group commit, a failing job alone, SQLite's writer connection
and its durability setting."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from hub.ledger.sqlite_writer import WAL_LIMIT_FRAMES
from hub.ledger.writer import CHECKPOINT_EVERY, Tx
from tests.support.hubs import RunningHub, start_hub


@pytest.fixture(params=["normal", "full"])
async def running(request: pytest.FixtureRequest, sqlite_url: str) -> AsyncIterator[RunningHub]:
    database = {"url": sqlite_url, "sqlite_synchronous": request.param}
    hub = await start_hub({"database": database}, database_url=sqlite_url)
    try:
        yield hub
    finally:
        await hub.close()


def synchronous(tx: Tx) -> int:
    return int(tx.conn.exec_driver_sql("PRAGMA synchronous").scalar_one())


def journal_mode(tx: Tx) -> str:
    return str(tx.conn.exec_driver_sql("PRAGMA journal_mode").scalar_one())


async def test_sqlite_writes_through_its_own_connection_as_configured(
    running: RunningHub,
) -> None:
    writer = running.hub.budget.writer
    wanted = {"normal": 1, "full": 2}[running.hub.settings.database.sqlite_synchronous]
    assert await writer.run(synchronous) == wanted
    assert await writer.run(journal_mode) == "wal"


def insert(value: str) -> object:
    def work(tx: Tx) -> str:
        tx.conn.execute(
            text(
                "INSERT INTO hub_instances (id, kind, host, pid, started_at, heartbeat_at) "
                "VALUES (:id, 'test', 'h', 1, '2026-01-01', '2026-01-01')"
            ),
            {"id": value},
        )
        return value

    return work


async def test_jobs_of_one_iteration_share_a_transaction_and_a_failure_stays_alone(
    running: RunningHub,
) -> None:
    writer = running.hub.budget.writer
    before = writer.batches
    names = [f"i{n}" for n in range(20)]
    outcomes = await asyncio.gather(
        *(writer.run(insert(name)) for name in names),
        writer.run(insert("i3")),  # a duplicate key: fails, alone
        return_exceptions=True,
    )
    assert outcomes[:20] == names
    assert isinstance(outcomes[20], Exception)
    assert writer.batches - before == 1
    async with running.hub.engine.connect() as conn:
        stored = (
            await conn.execute(text("SELECT id FROM hub_instances WHERE kind = 'test'"))
        ).scalars()
        assert sorted(stored) == sorted(names)


async def test_close_writes_what_is_queued(running: RunningHub) -> None:
    writer = running.hub.budget.writer
    pending = asyncio.ensure_future(writer.run(insert("last")))
    await asyncio.sleep(0)  # queued, not yet written
    await writer.close()
    assert await pending == "last"


async def test_a_batch_waits_for_the_lock_another_process_holds(running: RunningHub) -> None:
    """The writer tries the batch on the event loop without waiting for SQLite's lock; held
    elsewhere, the batch waits for it on the writer's thread and commits once it is free."""
    writer = running.hub.budget.writer
    path = make_url(running.hub.settings.database.url).database
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)  # another process's connection
    try:
        other.execute("BEGIN IMMEDIATE")
        pending = asyncio.ensure_future(writer.run(insert("after-the-lock")))
        for _ in range(5):  # the flush starts and finds the lock taken
            await asyncio.sleep(0)
        assert not pending.done()
        other.execute("COMMIT")
        assert await pending == "after-the-lock"
    finally:
        other.close()
    async with running.hub.engine.connect() as conn:
        stored = await conn.execute(text("SELECT id FROM hub_instances WHERE kind = 'test'"))
        assert list(stored.scalars()) == ["after-the-lock"]


def in_database_file(path: str) -> set[str]:
    """The test rows the database file itself holds, the WAL left out (immutable)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?immutable=1", uri=True)) as conn:
        rows = conn.execute("SELECT id FROM hub_instances WHERE kind = 'test'").fetchall()
    return {row[0] for row in rows}


async def test_commits_on_the_loop_leave_wal_checkpoints_to_a_thread(running: RunningHub) -> None:
    """SQLite's automatic checkpoint would run inside a commit, on the event loop; the
    writer's connection has it off, and every CHECKPOINT_EVERY batches a checkpoint on a
    thread of its own copies the WAL into the database file."""
    if running.hub.settings.database.sqlite_synchronous == "full":
        pytest.skip("full: commits run on the writer's thread, with SQLite's own checkpoints")
    writer = running.hub.budget.writer
    path = make_url(running.hub.settings.database.url).database
    assert path is not None

    def autocheckpoint(tx: Tx) -> int:
        return int(tx.conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())

    assert await writer.run(autocheckpoint) == 0
    before = await writer.checkpointed()
    await writer.run(insert("first"))
    assert "first" not in in_database_file(path)  # in the WAL only
    for n in range(CHECKPOINT_EVERY):
        await writer.run(insert(f"c{n}"))
    assert await writer.checkpointed() == before + 1
    assert {"first", "c0"} <= in_database_file(path)


async def test_a_batch_during_a_checkpoint_does_not_keep_the_wal_growing(
    running: RunningHub,
) -> None:
    """SQLite writes the WAL from its start again only when a batch begins with all of it
    copied into the database. A batch written while the checkpoint copied (the next request
    of a steady stream) appended to it instead, and so did every batch after: the file grew
    by every commit. The checkpoint now copies again what such a batch wrote, and should
    batches overlap every pass (a loaded machine), one RESTART pass past WAL_LIMIT_FRAMES
    starts it over: the WAL stays under that bound however long the stream runs (here long
    enough to pass it had it kept growing)."""
    if running.hub.settings.database.sqlite_synchronous == "full":
        pytest.skip("full: commits run on the writer's thread, with SQLite's own checkpoints")
    writer = running.hub.budget.writer
    path = make_url(running.hub.settings.database.url).database
    assert path is not None
    wal = Path(f"{path}-wal")
    serial = 0

    async def interval() -> None:
        nonlocal serial
        for _ in range(CHECKPOINT_EVERY):  # the last one starts a checkpoint
            serial += 1
            await writer.run(insert(f"w{serial}"))
        serial += 1
        await writer.run(insert(f"w{serial}"))  # while it copies (it syncs twice)
        await writer.checkpointed()

    await interval()
    frame = 24 + 4096  # a WAL frame: its header and one page (the hub's page size)
    per_interval = wal.stat().st_size // frame
    bound = WAL_LIMIT_FRAMES + 2 * per_interval
    largest = 0
    for _ in range(2 * WAL_LIMIT_FRAMES // per_interval):  # past the bound if it kept growing
        await interval()
        largest = max(largest, wal.stat().st_size // frame)
    assert largest < bound
