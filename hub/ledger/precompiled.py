"""The ledger's hot statements, compiled once per dialect and executed on the driver's own
cursor.

    UPSERT = Precompiled(insert(table).values(...).returning(table.c.id))
    counter_id = UPSERT.scalar(conn, {"scope": "team", ...})

SQLAlchemy's `Connection.execute` costs some 40-60 µs of Python per statement even with its
compiled cache (an execution context, parameter processing, a result object, events); a
reserve and a settle run about ten statements, so that was the largest share of the ledger
writer's CPU. Here the SQL string, the order of its parameters and each parameter's type
conversion (SQLAlchemy's own bind processors: dates and booleans on SQLite, JSON) are worked
out once from the statement, so executing is building a tuple and calling the DBAPI cursor,
inside the connection's transaction (the SQLite writer's pysqlite connection; on PostgreSQL
asyncpg's own connection inside the writer's greenlet, hub/ledger/pg_driver.py, when the
connection is the writer's autocommit one, else the asyncpg adapter's cursor). The statements
stay SQLAlchemy Core built from the table definitions: a column added to a table and to the
rows is written too.

Only for statements whose results need no conversion (ids and integers) and whose values
need no Python-side column defaults beyond scalars; anything else goes through `execute`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Column, Connection, Date
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert

from hub.ledger import pg_driver
from hub.store.base import UTCDateTime

Processor = Callable[[Any], Any] | None
Conversions = tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, conversion)


_SQLITE_DATE = "%(year)04d-%(month)02d-%(day)02d"
_SQLITE_DATETIME = _SQLITE_DATE + " %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"


def bind_processor(type_: Any, dialect: Dialect) -> Processor:
    """What a bind parameter of this type is converted by for the driver (None: nothing).

    SQLAlchemy's own, except on SQLite for a UTC datetime (`UTCDateTime`) and a date in their
    default storage formats: those are text SQLAlchemy builds with a `%` format over a dict
    of the value's fields (after the decorator's `astimezone`): 2.0 µs a UTC datetime, 0.8 µs
    a date. A UTC datetime's `isoformat` (its offset cut off) is the same text in 1.2 µs, a
    date's the same as its `isoformat`, remembered (0.1 µs; a few dates a day). Any
    other value (another zone, a naive one, None, a datetime given as a date) takes
    SQLAlchemy's way (tests/hub/ledger/test_driver_values.py)."""
    impl = type_.dialect_impl(dialect)
    process: Processor = impl.bind_processor(dialect)
    if dialect.name != "sqlite" or process is None:
        return process
    slow = process
    if isinstance(impl, UTCDateTime):
        stored = dialect.type_descriptor(impl.impl_instance)
        if getattr(stored, "_storage_format", None) == _SQLITE_DATETIME:

            def utc_text(value: Any) -> Any:
                if type(value) is datetime and value.tzinfo is UTC:
                    return value.isoformat(" ", "microseconds")[:26]
                return slow(value)

            return utc_text
    elif isinstance(impl, Date) and getattr(impl, "_storage_format", None) == _SQLITE_DATE:
        known: dict[date, str] = {}  # a counter's period start: the same few dates all day

        def date_text(value: Any) -> Any:
            if type(value) is not date:
                return slow(value)
            text = known.get(value)
            if text is None:
                if len(known) >= 1024:
                    known.clear()
                text = known[value] = value.isoformat()
            return text

        return date_text
    return process


def convert(values: list[Any], conversions: Conversions, memo: dict[Any, Any] | None) -> None:
    """Convert `values` (a row, in a statement's parameter order) where `conversions` say, in
    place. `memo`: conversions already made (by position and value) for the other rows of a
    statement or an executemany, which repeat them (a rollup row's bucket, a batch's day)."""
    for index, process in conversions:
        value = values[index]
        if memo is None:
            values[index] = process(value)
            continue
        try:
            values[index] = memo[index, value]
        except KeyError:
            values[index] = memo[index, value] = process(value)
        except TypeError:  # unhashable (a JSON list): converted each time
            values[index] = process(value)


class Compiled:
    """A statement compiled for a dialect: its SQL, parameter names in order, conversions."""

    __slots__ = ("_converted", "_getter", "fill", "names", "processors", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) or None)
        assert isinstance(compiled, SQLCompiler)
        self.sql: str = compiled.string
        positions = compiled.positiontup
        if positions is None:
            raise TypeError(f"{dialect.name} is not a positional paramstyle")
        self.names: tuple[str, ...] = tuple(positions)
        self.processors: tuple[Processor, ...] = tuple(
            bind_processor(compiled.binds[name].type, dialect) for name in self.names
        )
        # Values the statement carries itself (a literal in `values()`, a column's scalar
        # default for a column the rows leave out), for names the parameters do not give.
        self.fill: dict[str, Any] = {}
        for name in set(self.names):
            bind = compiled.binds[name]
            if bind.value is not None or bind.callable is not None:
                self.fill[name] = bind.effective_value
            column = getattr(statement, "table", None)
            column = column.c.get(name) if column is not None else None
            if isinstance(column, Column) and column.default is not None and name not in keys:
                default = column.default
                if not default.is_scalar:
                    raise TypeError(f"{name}: only scalar defaults are filled in")
                self.fill[name] = default.arg  # type: ignore[attr-defined]

        # The values in order by one C call when the parameters give every name (the usual
        # case: rollup rows, records), then only the names with a conversion converted.
        getter = operator.itemgetter(*self.names) if self.names else None
        self._getter = getter if len(self.names) > 1 else None
        self._converted: Conversions = tuple(
            (index, process) for index, process in enumerate(self.processors) if process
        )

    def row(self, params: Mapping[str, Any], memo: dict[Any, Any] | None = None) -> tuple[Any, ...]:
        """The parameters' values in the statement's order, converted. `memo`: conversions
        already made (by position and value) for rows of one executemany, which repeat them
        (a rollup row's bucket)."""
        getter = self._getter
        if getter is None:
            return self._row_filled(params)
        try:
            values = getter(params)
        except KeyError:
            # The statement's own values under the parameters (a counter's spent figures,
            # a hold's completion tokens): two C calls rather than a loop over every name.
            try:
                values = getter({**self.fill, **params})
            except KeyError:
                return self._row_filled(params)
        if not self._converted:
            return values  # type: ignore[no-any-return]
        converted = list(values)
        convert(converted, self._converted, memo)
        return tuple(converted)

    def _row_filled(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        fill = self.fill
        values = []
        for name, process in zip(self.names, self.processors, strict=True):
            value = params[name] if name in params else fill.get(name)
            values.append(value if process is None else process(value))
        return tuple(values)


class Precompiled:
    """One statement, compiled for each dialect (and set of parameter names) it meets."""

    __slots__ = ("_compiled", "_statement")

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], Compiled] = {}

    def _for(self, conn: Connection, keys: tuple[str, ...]) -> Compiled:
        dialect = conn.dialect
        compiled = self._compiled.get((dialect.name, keys))
        if compiled is None:
            compiled = Compiled(self._statement, dialect, keys)
            self._compiled[(dialect.name, keys)] = compiled
        return compiled

    @property
    def statement(self) -> ClauseElement:
        return self._statement

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute once; the rows it returns (RETURNING), unconverted."""
        compiled = self._for(conn, _keys(self._statement, params))
        return execute_rows(conn, compiled.sql, compiled.row(params))

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Execute once; the first column of the first row returned (None: no row)."""
        rows = self.rows(conn, params)
        return rows[0][0] if rows else None

    def many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        """Execute for each set of parameters (an executemany: no rows returned)."""
        if not params:
            return
        compiled = self._for(conn, _keys(self._statement, params[0]))
        memo: dict[Any, Any] = {}
        _executemany(conn, compiled.sql, [compiled.row(p, memo) for p in params])


def _executemany(conn: Connection, sql: str, values: Sequence[Sequence[Any]]) -> None:
    adapted = pg_driver.direct(conn)
    if adapted is not None:  # PostgreSQL: on asyncpg's connection itself (hub/ledger/pg_driver.py)
        try:
            pg_driver.fetch_many(adapted, sql, values)
        except conn.dialect.loaded_dbapi.Error as error:
            raise translated(conn, None, sql, values, error) from error
        return
    cursor = _cursor(conn)
    try:
        cursor.executemany(sql, values)
    except conn.dialect.loaded_dbapi.Error as error:
        raise translated(conn, cursor, sql, values, error) from error
    finally:
        cursor.close()


def execute_rows(conn: Connection, sql: str, values: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Compiled SQL with its converted values on the driver's cursor; the rows it returns."""
    adapted = pg_driver.direct(conn)
    if adapted is not None:  # PostgreSQL: on asyncpg's connection itself (hub/ledger/pg_driver.py)
        try:
            return pg_driver.fetch(adapted, sql, values)
        except conn.dialect.loaded_dbapi.Error as error:
            raise translated(conn, None, sql, values, error) from error
    cursor = _cursor(conn)
    try:
        cursor.execute(sql, values)
        return list(cursor.fetchall()) if cursor.description else []
    except conn.dialect.loaded_dbapi.Error as error:
        raise translated(conn, cursor, sql, values, error) from error
    finally:
        cursor.close()


def _keys(statement: ClauseElement, params: Mapping[str, Any]) -> tuple[str, ...]:
    # An INSERT without `values()` takes its columns from the parameters' names.
    if isinstance(statement, Insert) and statement._values is None:
        return tuple(params)
    return ()


def translated(conn: Connection, cursor: Any, sql: str, values: Any, error: Any) -> StatementError:
    """The driver's error as SQLAlchemy's (`OperationalError`, `IntegrityError`…), as
    `Connection.execute` would raise it; a lost connection is invalidated first, so the pool
    does not hand it out again and the writer sees `connection_invalidated`."""
    dialect = conn.dialect
    lost = dialect.is_disconnect(error, conn.connection.dbapi_connection, cursor)
    if lost:
        conn.invalidate(error)
    wrapped: StatementError = DBAPIError.instance(
        sql,
        values,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )
    return wrapped


def _cursor(conn: Connection) -> Any:
    """The DBAPI cursor of the connection's transaction (SQLAlchemy has begun it)."""
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def insert_returning_ids(
    conn: Connection,
    many: Executable,
    one: Precompiled,
    rows: Sequence[Mapping[str, Any]],
) -> list[int]:
    """Insert `rows`; their ids, in order. SQLite (no network): each row by `one` on the
    driver's cursor; PostgreSQL: one row likewise, several by `many` (SQLAlchemy's INSERT …
    RETURNING over all of them, ids sorted by parameter order), one round trip."""
    if len(rows) == 1 or conn.dialect.name != "postgresql":
        return [int(one.scalar(conn, row)) for row in rows]
    return [int(i) for i in conn.execute(many, list(rows)).scalars()]
