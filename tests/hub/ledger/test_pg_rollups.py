"""PostgreSQL: the server's expansion of records' facts into rollup rows
(hub/ledger/pg_rollups.py) gives exactly the rows hub/ledger/rollups.py builds in Python, for
random records (every edge tests/property/test_rollup_rows.py draws: bucket, bin and size
edges, absent dimensions, fail-overs) alone and in batches that share keys."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from hub.ledger.pg_rollups import FACTS, expansion_sql, facts
from hub.ledger.precompiled import Compiled, execute_rows
from hub.ledger.rollups import BY_POSITION, batch_values
from hub.ledger.usage_entry import RECORD_COLUMNS
from hub.model import Caller
from hub.store.rollup_tables import ROLLUP_KEY
from tests.property.test_rollup_rows import entry, records
from tests.support.hubs import RunningHub, start_hub

pytestmark = pytest.mark.postgres

_KEY = len(ROLLUP_KEY)
ROW_NAMES = RECORD_COLUMNS


@pytest.fixture
async def running(postgres_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub({}, database_url=postgres_url)
    try:
        yield hub
    finally:
        await hub.close()


def keyed(rows: list[Any]) -> dict[tuple[Any, ...], tuple[int, ...]]:
    by_key = {tuple(row[:_KEY]): tuple(int(v) for v in row[_KEY:]) for row in rows}
    assert len(by_key) == len(rows)  # each key once: what ON CONFLICT needs
    return by_key


def expanded(conn: Connection, records: list[tuple[object, ...]], *, grouped: bool) -> list[Any]:
    statement = text(expansion_sql(conn.dialect, grouped=grouped)).bindparams(FACTS)
    compiled = Compiled(statement, conn.dialect, ())
    return execute_rows(conn, compiled.sql, (facts(records, conn.dialect, BY_POSITION),))


numbers = itertools.count()


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=st.lists(st.tuples(records, st.integers(1, 3)), min_size=1, max_size=6))
async def test_the_servers_rows_are_the_python_rows(
    running: RunningHub, drawn: list[tuple[dict[str, Any], int]]
) -> None:
    team = Caller(team_id=running.team.id, team_name=running.team.name)
    batch: list[tuple[object, ...]] = []
    for record, copies in drawn:
        when: datetime = record["when"]
        batch += [entry(team, next(numbers), record).row_tuple(when) for _ in range(copies)]
    by_name = [dict(zip(ROW_NAMES, r, strict=True)) for r in batch]
    async with running.hub.engine.connect() as conn:
        alone = await conn.run_sync(expanded, batch[:1], grouped=False)
        together = await conn.run_sync(expanded, batch, grouped=True)
    assert keyed(alone) == keyed(batch_values(by_name[:1]))
    assert keyed(together) == keyed(batch_values(by_name))
