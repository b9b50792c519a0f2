"""a usage record's rollup facts as a composite type (PostgreSQL): the settlement binds each
record's facts once and the server expands them into its rollup rows, instead of twenty-four
rows of `usage_rollup_row` built by the hub

`usage_rollup_fact` is hub/ledger/pg_rollups.py's `FACT_COLUMNS`, in that order: the record's
dimensions (absent ones as 0 / ""), the deployment tried first, its bucket at each grain, its
bin in each measure (NULL: no such measure) and its sums, typed as the rollup table's columns
they land in (tests/hub/ledger/test_pg_rollups.py checks both). `usage_rollup_row` (0021) is
no longer bound by anything. Nothing on SQLite.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 01:30:00
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_SUMS = (
    "requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens",
    "reasoning_tokens", "cost_micros", "saved_micros", "latency_ms", "ttft_ms", "ttft_requests",
)  # fmt: skip
_DIMENSIONS = (
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
)
FACTS = (
    *_DIMENSIONS,
    ("first_deployment", "VARCHAR(200)"),
    *((f"bucket_{grain}", "TIMESTAMP WITH TIME ZONE") for grain in ("15m", "30m", "1h", "6h")),
    ("bucket_day", "TIMESTAMP WITH TIME ZONE"),
    *((f"bin_{measure}", "INTEGER") for measure in ("latency", "ttft", "failover", "size")),
    *((name, "BIGINT") for name in _SUMS),
)
# 0021's type, to create again on the way down.
_ROW = (
    ("cube", "VARCHAR(10)"),
    ("grain", "VARCHAR(4)"),
    ("bucket", "TIMESTAMP WITH TIME ZONE"),
    *_DIMENSIONS,
    ("bin", "INTEGER"),
    *((name, "BIGINT") for name in _SUMS),
)


def _create(name: str, attributes: tuple[tuple[str, str], ...]) -> None:
    op.execute(f"CREATE TYPE {name} AS ({', '.join(f'{a} {kind}' for a, kind in attributes)})")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _create("usage_rollup_fact", FACTS)
    op.execute("DROP TYPE usage_rollup_row")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _create("usage_rollup_row", _ROW)
    op.execute("DROP TYPE usage_rollup_fact")
