"""The async engine and session factory, tuned per backend."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(url: str, *, synchronous: str = "normal") -> AsyncEngine:
    """`synchronous`: SQLite's, `[database] sqlite_synchronous` (normal or full)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_database_file(Path(parsed.database))
        # SQLite has one writer at a time. One pooled connection makes waiting for it a fair
        # asyncio queue instead of SQLite's busy-handler sleeps (p99 under load: ~6x lower,
        # see bench/overhead.py). Never hold a session open across a network call.
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, pool_size=1, max_overflow=0, pool_timeout=30
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "connect", _synchronous(synchronous))
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    # No pool_pre_ping: it cost a round trip (and a BEGIN/ROLLBACK) per checkout on the chat
    # path. A connection the server dropped fails its statement once; SQLAlchemy then
    # invalidates the pool, so the next checkout reconnects. pool_recycle retires idle
    # connections before servers and firewalls usually cut them.
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800)


def create_read_engine(writer: AsyncEngine) -> AsyncEngine:
    """The engine reports read through, each session one read-only snapshot: a report reads
    a figure in several statements (a day bucket, then the quarters taken back out of it),
    so a write committed between them (a late settle rewriting a past record) would count
    half of it. SQLite: its own connections, read-only, outside the writer's single
    connection, each session one deferred transaction (WAL: a snapshot from its first read,
    no lock the writer waits for). PostgreSQL: the writer's pool, each session REPEATABLE
    READ, READ ONLY (no serialization failures for a transaction that writes nothing)."""
    parsed = writer.url
    if parsed.get_backend_name() != "sqlite":
        return writer.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    if parsed.database in (None, "", ":memory:"):
        return writer  # one connection: nothing commits between a session's statements
    engine = create_async_engine(parsed, connect_args={"timeout": 30}, pool_size=4, max_overflow=0)
    event.listen(engine.sync_engine, "connect", _sqlite_reader_pragmas)
    event.listen(engine.sync_engine, "begin", _sqlite_begin_deferred)
    return engine


def shares_pool(a: AsyncEngine, b: AsyncEngine) -> bool:
    """Whether `a` and `b` are one pool (the read engine a view of the writer's)."""
    return a.sync_engine.pool is b.sync_engine.pool


def _sqlite_reader_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are ours: _sqlite_begin_deferred
    cursor = dbapi_connection.cursor()
    # A reader's open transaction never holds up a writer only in WAL (a rollback journal's
    # SHARED lock would): the writer's connections set it; a no-op when it is already on.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_deferred(conn: Any) -> None:
    # Deferred: no lock until the first read, which fixes the snapshot until the session
    # ends (its rollback on close).
    conn.exec_driver_sql("BEGIN")


def private_database_file(path: Path) -> None:
    """The database and its folder readable by the owner only: the file holds the audit log,
    usage metadata and stored answers. A new folder is made 0700; the file (and its WAL and
    shared-memory files, which SQLite creates with the database's mode) 0600."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    for file in (path, *database_companions(path)):
        try:
            info = file.stat()
        except FileNotFoundError:
            continue
        if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
            file.chmod(0o600)


def database_companions(path: Path) -> tuple[Path, Path]:
    """SQLite's write-ahead log and shared-memory files beside `path`."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let pysqlite leave transactions to us, so BEGIN IMMEDIATE below takes the write lock
    # up front: concurrent reserve() calls then queue instead of failing with "locked".
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _synchronous(level: str) -> Any:
    """NORMAL: WAL keeps a process crash safe without an fsync per commit; FULL: fsync per
    commit, safe from power loss too (docs/architecture.md, Durability)."""

    def apply(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA synchronous={'FULL' if level == 'full' else 'NORMAL'}")
        cursor.close()

    return apply


def _sqlite_begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def dialect_name(session: AsyncSession) -> str:
    """ "sqlite" or "postgresql": for the few statements whose spelling differs."""
    return session.get_bind().dialect.name


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
