"""Many rows in one statement on SQLite: `INSERT … VALUES (…), (…), …`, compiled by SQLAlchemy
for a few fixed row counts and run on the driver's cursor.

    RECORDS = MultiRow(lambda rows: insert(table).values(rows).returning(...), columns)
    returned = RECORDS.execute(conn, [tuple_in_columns_order, ...])

SQLite runs each statement of an executemany (or each single-row INSERT) as its own VM
program: a reset, the bindings of one row, a step, and the statement's start-up work; one
statement of many rows starts once. Measured on the ledger writer's batch of 8 settlements
(61 rollup rows): the executemany upsert 245 µs, the same rows as one statement 165 µs;
likewise for the batch's usage records and reservation rows, one statement each instead of
one per row, which also saves the Python around each execute.

The statement is SQLAlchemy Core built from the table (`build` gets one dict of bind
parameters per row, in `columns` order), compiled once per row count in `SIZES` (a batch's
rows go in a few statements of those sizes, largest first, so a handful of statements are
compiled per process and stay in the driver's statement cache). Values are tuples in
`columns` order, converted by the columns' bind processors (each distinct value once) unless
the caller gives them converted already. SQLite only: PostgreSQL's many-row statements are
its own (arrays, hub/ledger/settle_pg.py and the like).

Rows a statement returns (RETURNING) come in no promised order; callers match them by a
returned key (a request id), never by position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

from sqlalchemy import BindParameter, Connection, bindparam
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler

from hub.ledger.precompiled import translated

# Row counts a statement is compiled for; a batch of n rows is cut greedily into these
# (61 rows: 48 + 12 + 1). At most 64 rows x 31 columns of parameters, far below SQLite's
# limit of 32766 variables.
SIZES = (64, 48, 32, 24, 16, 12, 8, 6, 4, 3, 2, 1)
Build = Callable[[list[dict[str, BindParameter[Any]]]], Executable]


class _Shape:
    """One row count's statement: its SQL, how a row's values go in its parameter order
    (`order`, None: as they are), what follows them (`fill`: the scalar defaults of columns
    the rows leave out, converted), and which of them a bind processor converts."""

    __slots__ = ("conversions", "fill", "order", "sql")

    def __init__(
        self, statement: Executable, conn: Connection, columns: tuple[str, ...], size: int
    ) -> None:
        dialect = conn.dialect
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        assert isinstance(compiled, SQLCompiler)
        positions = compiled.positiontup
        if positions is None:
            raise TypeError(f"{dialect.name} is not a positional paramstyle")
        self.sql: str = compiled.string
        width, extra = divmod(len(positions), size)
        first = positions[:width]
        given = [name[3:] for name in first if name.startswith("r0_")]
        if (
            extra
            or len(given) != len(columns)
            or not all(name.startswith("r0_") for name in first[: len(given)])
        ):
            raise TypeError("each row's parameters must come together, the given ones first")
        order = tuple(columns.index(name) for name in given)
        self.order = None if order == tuple(range(len(columns))) else order
        processors = [
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in first
        ]
        self.conversions: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (columns.index(given[i]), process)
            for i, process in enumerate(processors[: len(given)])
            if process is not None
        )
        table = statement.table  # type: ignore[attr-defined]
        fill = []
        for name, process in zip(first[len(given) :], processors[len(given) :], strict=True):
            default = table.c[name].default  # a column the rows leave out: its default
            if default is None or not default.is_scalar:
                raise TypeError(f"{name}: only scalar defaults are filled in")
            fill.append(default.arg if process is None else process(default.arg))
        self.fill = tuple(fill)

    def values(self, rows: Sequence[tuple[Any, ...]]) -> list[Any]:
        """The rows' values, flat, in the statement's parameter order."""
        order, fill = self.order, self.fill
        if order is not None:
            rows = [tuple([row[i] for i in order]) for row in rows]
        if fill:
            rows = [row + fill for row in rows]
        return list(chain.from_iterable(rows))


class MultiRow:
    """One INSERT of any number of rows given as tuples in `columns` order (SQLite)."""

    __slots__ = ("_build", "_shapes", "columns")

    def __init__(self, build: Build, columns: Sequence[str]) -> None:
        self._build = build
        self.columns = tuple(columns)
        self._shapes: dict[int, _Shape] = {}

    def _shape(self, conn: Connection, size: int) -> _Shape:
        shape = self._shapes.get(size)
        if shape is None:
            rows: list[dict[str, BindParameter[Any]]] = [
                {name: bindparam(f"r{row}_{name}") for name in self.columns} for row in range(size)
            ]
            shape = self._shapes[size] = _Shape(self._build(rows), conn, self.columns, size)
        return shape

    def conversions(self, conn: Connection) -> dict[str, Callable[[Any], Any]]:
        """The columns a bind processor converts, and each one's (for `converted=True`)."""
        return {self.columns[i]: process for i, process in self._shape(conn, 1).conversions}

    def execute(
        self, conn: Connection, rows: Sequence[tuple[Any, ...]], *, converted: bool = False
    ) -> list[tuple[Any, ...]]:
        """Insert `rows` (tuples in `columns` order) in as few statements as `SIZES` allow,
        inside the connection's transaction; the rows they return, in no promised order."""
        if not rows:
            return []
        if not converted:
            rows = self._converted(conn, rows)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        returned: list[tuple[Any, ...]] = []
        start, left = 0, len(rows)
        try:
            for size in SIZES:
                while left >= size:
                    shape = self._shape(conn, size)
                    values = shape.values(rows[start : start + size])
                    try:
                        cursor.execute(shape.sql, values)
                        if cursor.description:
                            returned += cursor.fetchall()
                    except conn.dialect.loaded_dbapi.Error as error:
                        raise translated(conn, cursor, shape.sql, values, error) from error
                    start += size
                    left -= size
        finally:
            cursor.close()
        return returned

    def _converted(
        self, conn: Connection, rows: Sequence[tuple[Any, ...]]
    ) -> Sequence[tuple[Any, ...]]:
        conversions = self._shape(conn, 1).conversions
        if not conversions:
            return rows
        memo: dict[tuple[int, Any], Any] = {}
        out: list[tuple[Any, ...]] = []
        for row in rows:
            values = list(row)
            for index, process in conversions:
                value = values[index]
                try:
                    values[index] = memo[index, value]
                except KeyError:
                    values[index] = memo[index, value] = process(value)
                except TypeError:  # unhashable (a JSON list): converted each time
                    values[index] = process(value)
            out.append(tuple(values))
        return out
