"""Many rows in one statement on SQLite: `INSERT … VALUES (…), (…), …`, from SQLAlchemy's
compile of one row and of two, and run on the driver's cursor.

    RECORDS = MultiRow(lambda rows: insert(table).values(rows).returning(...), columns)
    returned = RECORDS.execute(conn, [tuple_in_columns_order, ...])

SQLite runs each statement of an executemany (or each single-row INSERT) as its own VM
program: a reset, the bindings of one row, a step, and the statement's start-up work; one
statement of many rows starts once. Measured on the ledger writer's batch of 8 settlements
(61 rollup rows): the executemany upsert 245 µs, the same rows as one statement 165 µs;
likewise for the batch's usage records and reservation rows, one statement each instead of
one per row, which also saves the Python around each execute.

The statement is SQLAlchemy Core built from the table (`build` gets one dict of bind
parameters per row, in `columns` order), compiled by SQLAlchemy for one row and for two;
the SQL for a row count in `SIZES` is the one row's VALUES group repeated (`_Shape`; a
batch's rows go in a few statements of those sizes, largest first, so a handful of SQL texts
stay in the driver's statement cache). Values are tuples in
`columns` order, converted by the columns' bind processors (each distinct value once) unless
the caller gives them converted already. SQLite only: PostgreSQL's many-row statements are
its own (arrays, hub/ledger/pg_settle_batch.py and the like).

Rows a statement returns (RETURNING) come in no promised order; callers match them by a
returned key (a request id), never by position.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from typing import Any

from sqlalchemy import BindParameter, Connection, bindparam
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler

from hub.ledger.precompiled import Conversions, bind_processor, convert, translated

# Row counts a statement is compiled for; a batch of n rows is cut greedily into these
# (61 rows: 48 + 12 + 1). At most 64 rows x 31 columns of parameters, far below SQLite's
# limit of 32766 variables.
SIZES = (64, 48, 32, 24, 16, 12, 8, 6, 4, 3, 2, 1)


def in_sizes(count: int) -> Iterator[tuple[int, int]]:
    """(start, size) of each piece when `count` items are cut into `SIZES`, largest first:
    the statements a batch of that many rows, holds or bins goes in."""
    start = 0
    for size in SIZES:
        while count - start >= size:
            yield start, size
            start += size


Build = Callable[[list[dict[str, BindParameter[Any]]]], Executable]


class _Shape:
    """The statement for any row count: its SQL around one row's `VALUES` group (`head`,
    `group`, `tail`), how a row's values go in its parameter order (`order`, None: as they
    are), what follows them (`fill`: the scalar defaults of columns the rows leave out,
    converted), and which of them a bind processor converts.

    SQLAlchemy compiles the statement for one row and for two; n rows are the one row's
    `VALUES` group n times, which the two rows' SQL must show (else this refuses to build):
    compiling 64 rows took SQLAlchemy 20 ms, a stall on the first batch of each size."""

    __slots__ = ("conversions", "fill", "group", "head", "order", "tail")

    def __init__(self, build: Build, conn: Connection, columns: tuple[str, ...]) -> None:
        dialect = conn.dialect
        one, two = (_compiled(build, conn, columns, size) for size in (1, 2))
        positions, sql = one.positiontup, one.string
        if positions is None or two.positiontup is None:
            raise TypeError(f"{dialect.name} is not a positional paramstyle")
        width = len(positions)
        second = [name.replace("r1_", "r0_", 1) for name in two.positiontup[width:]]
        shared = len(_common_prefix(sql, two.string))
        start = sql.rfind(" VALUES (", 0, shared) + len(" VALUES ")
        self.head, self.group, self.tail = sql[:start], sql[start:shared], sql[shared:]
        if (
            start < len(" VALUES ")
            or two.string != f"{self.head}{self.group}, {self.group}{self.tail}"
            or len(two.positiontup) != 2 * width
            or [n for n in second if n.startswith("r0_")]
            != [n for n in positions if n.startswith("r0_")]
        ):
            raise TypeError("a multi-row INSERT whose rows are not one VALUES group repeated")
        given = [name[3:] for name in positions if name.startswith("r0_")]
        if len(given) != len(columns) or not all(
            name.startswith("r0_") for name in positions[: len(given)]
        ):
            raise TypeError("each row's parameters must come together, the given ones first")
        order = tuple(columns.index(name) for name in given)
        self.order = None if order == tuple(range(len(columns))) else order
        processors = [bind_processor(one.binds[name].type, dialect) for name in positions]
        self.conversions: Conversions = tuple(
            (columns.index(given[i]), process)
            for i, process in enumerate(processors[: len(given)])
            if process is not None
        )
        table = one.statement.table  # type: ignore[union-attr]
        fill = []
        for name, process in zip(positions[len(given) :], processors[len(given) :], strict=True):
            default = table.c[name].default  # a column the rows leave out: its default
            if default is None or not default.is_scalar:
                raise TypeError(f"{name}: only scalar defaults are filled in")
            fill.append(default.arg if process is None else process(default.arg))
        self.fill = tuple(fill)

    def sql(self, size: int) -> str:
        return self.head + ", ".join([self.group] * size) + self.tail

    def values(self, rows: Sequence[tuple[Any, ...]]) -> list[Any]:
        """The rows' values, flat, in the statement's parameter order."""
        order, fill = self.order, self.fill
        if order is not None:
            rows = [tuple([row[i] for i in order]) for row in rows]
        if fill:
            rows = [row + fill for row in rows]
        return list(chain.from_iterable(rows))


def _compiled(build: Build, conn: Connection, columns: tuple[str, ...], size: int) -> SQLCompiler:
    rows: list[dict[str, BindParameter[Any]]] = [
        {name: bindparam(f"r{row}_{name}") for name in columns} for row in range(size)
    ]
    compiled = build(rows).compile(dialect=conn.dialect)  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler)
    return compiled


def _common_prefix(a: str, b: str) -> str:
    end = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        end += 1
    return a[:end]


class MultiRow:
    """One INSERT of any number of rows given as tuples in `columns` order (SQLite)."""

    __slots__ = ("_build", "_shape_of", "_sql", "columns")

    def __init__(self, build: Build, columns: Sequence[str]) -> None:
        self._build = build
        self.columns = tuple(columns)
        self._shape_of: _Shape | None = None
        self._sql: dict[int, str] = {}

    def _shape(self, conn: Connection) -> _Shape:
        shape = self._shape_of
        if shape is None:
            shape = self._shape_of = _Shape(self._build, conn, self.columns)
        return shape

    def conversions(self, conn: Connection) -> dict[str, Callable[[Any], Any]]:
        """The columns a bind processor converts, and each one's (for `converted=True`)."""
        return {self.columns[i]: process for i, process in self._shape(conn).conversions}

    def execute(
        self, conn: Connection, rows: Sequence[tuple[Any, ...]], *, converted: bool = False
    ) -> list[tuple[Any, ...]]:
        """Insert `rows` (tuples in `columns` order) in as few statements as `SIZES` allow,
        inside the connection's transaction; the rows they return, in no promised order."""
        if not rows:
            return []
        if not converted:
            rows = self._converted(conn, rows)
        shape = self._shape(conn)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        returned: list[tuple[Any, ...]] = []
        try:
            for start, size in in_sizes(len(rows)):
                sql = self._sql.get(size)
                if sql is None:
                    sql = self._sql[size] = shape.sql(size)
                values = shape.values(rows[start : start + size])
                try:
                    cursor.execute(sql, values)
                    if cursor.description:
                        returned += cursor.fetchall()
                except conn.dialect.loaded_dbapi.Error as error:
                    raise translated(conn, cursor, sql, values, error) from error
        finally:
            cursor.close()
        return returned

    def _converted(
        self, conn: Connection, rows: Sequence[tuple[Any, ...]]
    ) -> Sequence[tuple[Any, ...]]:
        conversions = self._shape(conn).conversions
        if not conversions:
            return rows
        memo: dict[tuple[int, Any], Any] = {}
        out: list[tuple[Any, ...]] = []
        for row in rows:
            values = list(row)
            convert(values, conversions, memo)
            out.append(tuple(values))
        return out
