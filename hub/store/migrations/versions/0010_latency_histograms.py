"""latency histograms: usage rollups keyed by a bin too, backfilled for latency and TTFT

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:05:00
"""

import math

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

KEY = ("cube", "grain", "bucket", "team_id", "member_id", "key_id", "user", "connector",
       "workspace", "channel", "alias", "deployment", "status")  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("usage_rollups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bin", sa.Integer(), server_default="0", nullable=False))
        batch_op.drop_constraint("uq_usage_rollups_key", type_="unique")
        batch_op.create_unique_constraint("uq_usage_rollups_key", [*KEY, "bin"])
    backfill()


# hub/ledger/latency_bins.py as it was when this migration was written: bin 0 is 0 ms, bin
# k + 1 starts at ceil(2^(k/8)) ms, up to 2^20 ms.
LOWER = [math.ceil(2 ** (k / 8)) for k in range(160)]
# The measure cubes of hub/ledger/cubes.py, and the column each bins.
MEASURES = {"latency": "latency_ms", "ttft": "ttft_ms"}
KEPT = ("team_id", "connector", "alias", "coalesce(deployment, '')", "status")


def _bin(column: str) -> str:
    cases = " ".join(
        f"WHEN {column} >= {low} THEN {k + 1}" for k, low in reversed(list(enumerate(LOWER)))
    )
    return f"(CASE {cases} ELSE 0 END)"


def backfill() -> None:
    """The measure cubes' rows of the records already there: one INSERT … SELECT per cube and
    grain (the other cubes' rows are bin 0 already)."""
    if op.get_bind().dialect.name == "postgresql":
        buckets = {
            "hour": "date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
            "day": "date_trunc('day', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
        }
    else:  # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)
        buckets = {
            "hour": "substr(created_at, 1, 13) || ':00:00.000000'",
            "day": "substr(created_at, 1, 10) || ' 00:00:00.000000'",
        }
    for cube, column in MEASURES.items():
        for grain, bucket in buckets.items():
            binned = _bin(column)
            op.execute(
                'INSERT INTO usage_rollups (cube, grain, bucket, team_id, member_id, key_id, "user", '
                "connector, workspace, channel, alias, deployment, status, bin, requests, "
                "prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, "
                "reasoning_tokens, cost_micros, saved_micros, latency_ms, ttft_ms, ttft_requests) "
                f"SELECT '{cube}', '{grain}', {bucket}, team_id, 0, 0, '', connector, '', '', "
                f"alias, coalesce(deployment, ''), status, {binned}, count(*), "
                "sum(prompt_tokens), sum(completion_tokens), sum(cached_tokens), "
                "sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_micros), "
                "sum(saved_micros), sum(latency_ms), sum(coalesce(ttft_ms, 0)), count(ttft_ms) "
                f"FROM usage_records WHERE {column} IS NOT NULL "
                f"GROUP BY {bucket}, {', '.join(KEPT)}, {binned}"
            )


def downgrade() -> None:
    op.execute("DELETE FROM usage_rollups WHERE cube IN ('latency', 'ttft')")
    with op.batch_alter_table("usage_rollups", schema=None) as batch_op:
        batch_op.drop_constraint("uq_usage_rollups_key", type_="unique")
        batch_op.create_unique_constraint("uq_usage_rollups_key", list(KEY))
        batch_op.drop_column("bin")
