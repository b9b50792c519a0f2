"""Developer tool: write a migration from the difference between the models and a fresh
database migrated to head. `python -m hub.store.autogen "message" [--rev-id ID]`."""

from __future__ import annotations

import argparse
import asyncio
import tempfile

from alembic import command
from sqlalchemy.engine import Connection

from hub.store.engine import create_engine
from hub.store.migrate import alembic_config


async def main(message: str, rev_id: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp}/autogen.db")

        def run(connection: Connection) -> None:
            config = alembic_config(connection)
            command.upgrade(config, "head")
            command.revision(config, message=message, autogenerate=True, rev_id=rev_id)

        async with engine.begin() as conn:
            await conn.run_sync(run)
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("message")
    parser.add_argument("--rev-id")
    args = parser.parse_args()
    asyncio.run(main(args.message, args.rev_id))
