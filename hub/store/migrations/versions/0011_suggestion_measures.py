"""suggestion measures: usage records keep a prompt hash and the deployment tried first;
failover and size cubes in the rollups, backfilled

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 07:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prompt_hash", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("first_deployment", sa.String(length=200), nullable=True))
    backfill()


def _size_class(column: str) -> str:
    """hub/ledger/cubes.py's size_class as it was: the bit length, at most 31."""
    cases = " ".join(f"WHEN {column} >= {2 ** (k - 1)} THEN {k}" for k in range(31, 0, -1))
    return f"(CASE {cases} ELSE 0 END)"


SUMS = (
    "count(*), sum(prompt_tokens), sum(completion_tokens), sum(cached_tokens), "
    "sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_micros), sum(saved_micros), "
    "sum(latency_ms), sum(coalesce(ttft_ms, 0)), count(ttft_ms)"
)
COLUMNS = (
    'cube, grain, bucket, team_id, member_id, key_id, "user", connector, workspace, channel, '
    "alias, deployment, status, bin, requests, prompt_tokens, completion_tokens, cached_tokens, "
    "cache_write_tokens, reasoning_tokens, cost_micros, saved_micros, latency_ms, ttft_ms, "
    "ttft_requests"
)


def backfill() -> None:
    """The failover and size cubes' rows of the records already there (as hub/ledger/rollups.py
    writes them): one INSERT … SELECT per cube and grain."""
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
    first = "coalesce(first_deployment, deployment)"
    fell_over = (
        "(CASE WHEN first_deployment IS NOT NULL AND "
        "(deployment IS NULL OR first_deployment <> deployment) THEN 1 ELSE 0 END)"
    )
    for grain, bucket in buckets.items():
        op.execute(
            f"INSERT INTO usage_rollups ({COLUMNS}) SELECT 'failover', '{grain}', {bucket}, "
            f"team_id, 0, 0, '', connector, '', '', alias, {first}, status, {fell_over}, {SUMS} "
            f"FROM usage_records WHERE {first} IS NOT NULL "
            f"GROUP BY {bucket}, team_id, connector, alias, {first}, status, {fell_over}"
        )
    size = f"({_size_class('prompt_tokens')} * 32 + {_size_class('completion_tokens')})"
    day = buckets["day"]
    places = "team_id, connector, coalesce(workspace, ''), coalesce(channel, ''), alias, status"
    op.execute(
        f"INSERT INTO usage_rollups ({COLUMNS}) SELECT 'size', 'day', {day}, team_id, 0, 0, '', "
        f"connector, coalesce(workspace, ''), coalesce(channel, ''), alias, '', status, {size}, "
        f"{SUMS} FROM usage_records GROUP BY {day}, {places}, {size}"
    )


def downgrade() -> None:
    op.execute("DELETE FROM usage_rollups WHERE cube IN ('failover', 'size')")
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.drop_column("first_deployment")
        batch_op.drop_column("prompt_hash")
