"""Files the hub writes are its own (issue #13): var/ is created 0700, the SQLite database
and its WAL and shared-memory files are 0600 whatever the umask, and `hub doctor` names a
loose one with the chmod that fixes it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.doctor import file_modes
from hub.store.engine import create_engine
from tests.support.hubs import settings_from


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def lax_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


async def _write(database: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        # The WAL and shared-memory files exist while a connection is open.
        async with engine.connect() as conn:
            await conn.execute(text("SELECT count(*) FROM t"))
            assert mode(database.with_name("hub.db-wal")) == 0o600
            assert mode(database.with_name("hub.db-shm")) == 0o600
    finally:
        await engine.dispose()


async def test_a_new_database_and_its_folder_are_private(tmp_path: Path, lax_umask: None) -> None:
    database = tmp_path / "var" / "hub.db"
    await _write(database)
    assert mode(database.parent) == 0o700
    assert mode(database) == 0o600


async def test_an_existing_loose_database_is_tightened(tmp_path: Path, lax_umask: None) -> None:
    database = tmp_path / "hub.db"
    await _write(database)
    database.chmod(0o644)
    await _write(database)
    assert mode(database) == 0o600


def test_doctor_names_loose_database_files(tmp_path: Path) -> None:
    folder = tmp_path / "var"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    for name in ("hub.db", "hub.db-wal", "hub.db-shm"):
        (folder / name).write_bytes(b"")
        (folder / name).chmod(0o644)
    settings = settings_from({}, database_url=f"sqlite:///{folder / 'hub.db'}")
    rows = {row.check: row for row in file_modes(settings)}
    for label, path, wanted in [
        ("database file", folder / "hub.db", "600"),
        ("database WAL file", folder / "hub.db-wal", "600"),
        ("database shared-memory file", folder / "hub.db-shm", "600"),
        ("database folder", folder, "700"),
    ]:
        row = rows[f"file mode: {label}"]
        assert not row.ok
        assert f"fix: chmod {wanted} {path}" in row.detail
