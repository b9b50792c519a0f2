"""the rollup row as a composite type (PostgreSQL): the settlement binds its rollup rows as
one array of `usage_rollup_row` instead of one array per column

asyncpg checks every element of an array parameter against three abstract base classes
(each a Python call) before it encodes it: twenty-five arrays of a record's twenty-four
rollup rows were some six hundred such calls per settlement, most of the driver's time for
the statement. An array of rows is four calls a row, the rows going as the tuples
hub/ledger/rollups.py builds them. The attributes are hub/ledger/rollups.py's `ROW_COLUMNS`,
in that order, with the table's types (tests/hub/ledger/test_settle_batch_pg.py checks both).
Nothing on SQLite.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 00:00:00
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_SUMS = (
    "requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens",
    "reasoning_tokens", "cost_micros", "saved_micros", "latency_ms", "ttft_ms", "ttft_requests",
)  # fmt: skip
ATTRIBUTES = (
    ("cube", "VARCHAR(10)"),
    ("grain", "VARCHAR(4)"),
    ("bucket", "TIMESTAMP WITH TIME ZONE"),
    ("team_id", "BIGINT"),
    ("member_id", "BIGINT"),
    ("key_id", "BIGINT"),
    ('"user"', "VARCHAR(100)"),
    ("connector", "VARCHAR(30)"),
    ("workspace", "VARCHAR(100)"),
    ("channel", "VARCHAR(100)"),
    ("alias", "VARCHAR(100)"),
    ("deployment", "VARCHAR(200)"),
    ("status", "VARCHAR(20)"),
    ("bin", "INTEGER"),
    *((name, "BIGINT") for name in _SUMS),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    attributes = ", ".join(f"{name} {kind}" for name, kind in ATTRIBUTES)
    op.execute(f"CREATE TYPE usage_rollup_row AS ({attributes})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TYPE usage_rollup_row")
