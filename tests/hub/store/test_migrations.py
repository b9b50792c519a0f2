"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from hub.store.engine import create_engine
from hub.store.migrate import upgrade
from hub.store.schema import metadata


async def test_migrations_match_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)

        def diff(connection: Connection) -> list[object]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))

        def tables(connection: Connection) -> set[str]:
            return set(inspect(connection).get_table_names())

        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
            assert await conn.run_sync(tables) >= {
                "teams",
                "api_keys",
                "usage_records",
                "deliveries",
            }
        await upgrade(engine)  # applying again is a no-op
    finally:
        await engine.dispose()
