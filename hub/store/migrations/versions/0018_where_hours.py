"""hourly `where` rollups: the `where` cube (team, connector, workspace, channel, status) also
per UTC hour, backfilled from its quarter-hour rows

A table by channel and hour in a zone a whole number of hours from UTC (New York, Paris)
reads each local hour as one hour bucket instead of four quarters: a fourth of the rows.
The quarter rows are exact sums of the records, so their sums by hour are the rows
hub/ledger/rollups.py writes for the same records.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 08:35:00
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

KEYS = ('team_id, member_id, key_id, "user", connector, workspace, channel, alias, '
        "deployment, status, bin")  # fmt: skip
SUMS = (
    "requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens",
    "reasoning_tokens", "cost_micros", "saved_micros", "latency_ms", "ttft_ms", "ttft_requests",
)  # fmt: skip


def _hour(column: str) -> str:
    """The UTC hour a rollup bucket is in."""
    if op.get_bind().dialect.name == "postgresql":
        return f"(date_trunc('hour', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
    # 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); the colon apart: text() takes ':00' for a bind parameter.
    return f"(substr({column}, 1, 13) || ':' || '00:00.000000')"


def upgrade() -> None:
    backfill()


def backfill() -> None:
    """The `where` cube's hour rows, each the sum of its quarter rows: one INSERT … SELECT."""
    hour = _hour("bucket")
    sums = ", ".join(f"sum({name})" for name in SUMS)
    op.execute(
        f"INSERT INTO usage_rollups (cube, grain, bucket, {KEYS}, {', '.join(SUMS)}) "
        f"SELECT cube, '1h', {hour}, {KEYS}, {sums} FROM usage_rollups "
        f"WHERE cube = 'where' AND grain = '15m' GROUP BY cube, {hour}, {KEYS}"
    )


def downgrade() -> None:
    op.execute("DELETE FROM usage_rollups WHERE cube = 'where' AND grain = '1h'")
