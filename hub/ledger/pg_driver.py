"""PostgreSQL: the ledger's precompiled statements on asyncpg's own connection.

    adapted = direct(conn)          # None: go through SQLAlchemy's cursor as usual
    rows = fetch(adapted, sql, values)

Inside the ledger writer's greenlet (hub/ledger/engine_writer.py `OnEngine._write_pg`),
SQLAlchemy's asyncpg cursor wraps every statement in its own machinery: a mutex, its own
prepared-statement cache, a cursor description, the rows copied into a deque, the status line
parsed by a regular expression. For the writer's hot statements (hub/ledger/precompiled.py: SQL
and converted values worked out once) none of that is needed, so they go to the asyncpg
connection itself: `Connection.fetch` prepares each SQL text once per connection (asyncpg's
statement cache, the same `$n` text SQLAlchemy compiled) and binds the values as they are;
`executemany` is asyncpg's pipelined one. Errors come out as the adapter's DB-API errors (which
`precompiled.translated` turns into SQLAlchemy's, invalidating a lost connection), exactly as
from the cursor.

Only on a connection in autocommit (the writer's, whose transactions are BEGIN … COMMIT on
the driver itself, `hub/ledger/pg_batch.py`), where the statement lands in the same server
transaction either way; on any other (a session's, whose transaction the cursor begins) the
cursor runs it as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.util import await_only


def direct(conn: Connection) -> Any:
    """The adapter of `conn`'s asyncpg connection when a statement may skip its cursor;
    None otherwise (another driver, or a connection whose transactions the cursor begins)."""
    if conn.dialect.driver != "asyncpg":
        return None
    adapted = conn.connection.dbapi_connection
    if adapted is None:
        return None
    return adapted if adapted.autocommit else None  # see above


def fetch(adapted: Any, sql: str, values: Sequence[Any]) -> list[Any]:
    """The rows `sql` returns (asyncpg records: indexed like tuples)."""
    try:
        rows: list[Any] = await_only(adapted.driver_connection.fetch(sql, *values))
    except Exception as error:  # noqa: BLE001 - re-raised as the adapter's DB-API error
        adapted._handle_exception(error)  # raises
        raise
    return rows


def fetch_many(adapted: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """`sql` once per row, pipelined (no rows returned)."""
    try:
        await_only(adapted.driver_connection.executemany(sql, rows))
    except Exception as error:  # noqa: BLE001 - re-raised as the adapter's DB-API error
        adapted._handle_exception(error)  # raises
        raise


def simple(adapted: Any, sql: str) -> None:
    """`sql` by the simple query protocol: several statements, no parameters, one round
    trip (`BEGIN; SET LOCAL …`)."""
    try:
        await_only(adapted.driver_connection.execute(sql))
    except Exception as error:  # noqa: BLE001 - re-raised as the adapter's DB-API error
        adapted._handle_exception(error)  # raises
        raise


def in_transaction(adapted: Any) -> bool:
    """Whether the server has a transaction open on this connection."""
    return bool(adapted.driver_connection.is_in_transaction())


def closed(adapted: Any) -> bool:
    return bool(adapted.driver_connection.is_closed())
