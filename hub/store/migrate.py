"""Apply Alembic migrations programmatically (used by `hub migrate` and by tests)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest migration this code knows."""
    head = _scripts().get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise RuntimeError("no migrations found")
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at; None when it was never migrated."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)


async def schema_problem(engine: AsyncEngine) -> str | None:
    """Why this code cannot use the database's schema, in one sentence; None when it can."""
    current = await current_revision(engine)
    head = head_revision()
    if current == head:
        return None
    if current is None:
        return "the database is not migrated: run `hub migrate`"
    known = {script.revision for script in _scripts().walk_revisions()}
    if current not in known:
        return (
            f"the database is at revision {current}, newer than this hub knows ({head}): "
            "upgrade the hub"
        )
    return f"the database is at revision {current}, older than this hub's {head}: run `hub migrate`"
