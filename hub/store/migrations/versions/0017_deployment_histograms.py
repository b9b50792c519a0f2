"""per-deployment latency and TTFT histograms: the bins kept by team and deployment only, per
UTC hour and day (cubes `dep_lat`, `dep_ttft`: `cube` holds 10 characters), backfilled from the full cubes' rows

The models page's percentiles per deployment and per local day read these: a quarter of the
`latency` cube holds about one row per record, an hour here a few hundred at most.
Backfilled from the `latency` and `ttft` cubes' quarter and day rows, which are exact sums of
the records, so the new rows are what hub/ledger/rollups.py writes for the same records.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 08:10:00
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Each new cube, and the full cube its rows are summed from.
CUBES = {"dep_lat": "latency", "dep_ttft": "ttft"}
SUMS = (
    "requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens",
    "reasoning_tokens", "cost_micros", "saved_micros", "latency_ms", "ttft_ms", "ttft_requests",
)  # fmt: skip
# The dimensions the new cubes leave out, stored as hub/ledger/rollups.py stores them.
LEFT_OUT = {"member_id": "0", "key_id": "0", "user": "''", "connector": "''",
            "workspace": "''", "channel": "''", "alias": "''", "status": "''"}  # fmt: skip


def _hour(column: str) -> str:
    """The UTC hour a rollup bucket is in."""
    if op.get_bind().dialect.name == "postgresql":
        return f"(date_trunc('hour', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
    # 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); the colon apart: text() takes ':00' for a bind parameter.
    return f"(substr({column}, 1, 13) || ':' || '00:00.000000')"


def upgrade() -> None:
    backfill()


def backfill() -> None:
    """Each new cube's hour rows summed from its full cube's quarter rows, its day rows from
    the full cube's day rows: one INSERT … SELECT per cube and grain."""
    left = ", ".join(f'"{name}"' for name in LEFT_OUT)
    left_values = ", ".join(LEFT_OUT.values())
    sums = ", ".join(f"sum({name})" for name in SUMS)
    for cube, source in CUBES.items():
        for grain, from_grain, bucket in (("1h", "15m", _hour("bucket")), ("day", "day", "bucket")):
            op.execute(
                f"INSERT INTO usage_rollups (cube, grain, bucket, team_id, deployment, bin, "
                f"{left}, {', '.join(SUMS)}) SELECT '{cube}', '{grain}', {bucket}, team_id, "
                f"deployment, bin, {left_values}, {sums} FROM usage_rollups "
                f"WHERE cube = '{source}' AND grain = '{from_grain}' "
                f"GROUP BY {bucket}, team_id, deployment, bin"
            )


def downgrade() -> None:
    named = ", ".join(f"'{cube}'" for cube in CUBES)
    op.execute(f"DELETE FROM usage_rollups WHERE cube IN ({named})")
