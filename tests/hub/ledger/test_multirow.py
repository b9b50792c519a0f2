"""SQLite's many-row INSERTs (hub/ledger/multirow.py): n rows' SQL is SQLAlchemy's own for
n rows, and a batch cut into the compiled sizes writes and returns every row once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, create_engine, insert

from hub.ledger import reserve_sqlite, usage_writer
from hub.ledger.multirow import MultiRow, _compiled

_TABLE = Table(
    "things",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False, unique=True),
    Column("size", Integer, nullable=False),
    Column("kept", Integer, nullable=False, default=7),
)
_THINGS = MultiRow(
    lambda rows: insert(_TABLE).values(rows).returning(_TABLE.c.id, _TABLE.c.name),
    ("size", "name"),  # not the table's order
)


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        _TABLE.metadata.create_all(connection)
        yield connection
    engine.dispose()


@pytest.mark.parametrize(
    "multirow",
    [usage_writer._STAGE_ROWS, usage_writer._INSERT_ROWS, reserve_sqlite._INSERT_ROWS, _THINGS],
    ids=["rollup facts", "records", "reservations", "things"],
)
@pytest.mark.parametrize("size", [1, 2, 3, 17, 64])
def test_n_rows_are_what_sqlalchemy_compiles_for_n(
    conn: Connection, multirow: MultiRow, size: int
) -> None:
    assert (
        multirow._shape(conn).sql(size)
        == _compiled(multirow._build, conn, multirow.columns, size).string
    )


@pytest.mark.parametrize("count", [1, 5, 61, 64, 65, 200])
def test_every_row_is_written_and_returned_once(conn: Connection, count: int) -> None:
    rows = [(n * 10, f"t{n}") for n in range(count)]
    returned = _THINGS.execute(conn, rows)
    assert sorted(name for _, name in returned) == sorted(name for _, name in rows)
    stored = conn.execute(_TABLE.select().order_by(_TABLE.c.id)).all()
    assert sorted((r.id, r.name) for r in stored) == sorted(returned)
    assert sorted((r.name, r.size, r.kept) for r in stored) == sorted(
        (name, size, 7) for size, name in rows
    )
