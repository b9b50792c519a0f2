"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
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


async def test_partial_indexes_match_models(database_url: str) -> None:
    """Alembic's comparison does not look at an index's WHERE: the migrations must make
    partial exactly the indexes the models declare partial."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine)

        def migrated(connection: Connection) -> set[str]:
            catalog = (
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                if connection.dialect.name == "sqlite"
                else "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            )
            rows = connection.execute(text(catalog)).all()
            return {name for name, sql in rows if " WHERE " in sql.upper()}

        async with engine.connect() as conn:
            dialect = conn.dialect.name
            declared = {
                str(index.name)
                for table in metadata.tables.values()
                for index in table.indexes
                if index.dialect_options[dialect]["where"] is not None
            }
            assert "ix_usage_records_experiment_id" in declared
            assert await conn.run_sync(migrated) == declared
    finally:
        await engine.dispose()
