"""half-hour per-deployment histograms: the `dep_lat` and `dep_ttft` cubes also per UTC half
hour, backfilled from the full cubes' quarter-hour rows

A zone half an hour off the hour (Kolkata, Adelaide, Tehran, St John's) moves 5.5 hours of
each UTC day to the next local day: five hour buckets and one half-hour bucket here, where
the half hour was two quarters of the `latency` and `ttft` cubes (each holding about one row
per record). The quarter rows are exact sums of the records, so their sums by half hour are
the rows hub/ledger/rollups.py writes for the same records.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 12:55:00
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# Each per-deployment cube, and the full cube its rows are summed from.
CUBES = {"dep_lat": "latency", "dep_ttft": "ttft"}
SUMS = (
    "requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens",
    "reasoning_tokens", "cost_micros", "saved_micros", "latency_ms", "ttft_ms", "ttft_requests",
)  # fmt: skip
# The dimensions the per-deployment cubes leave out, stored as hub/ledger/rollups.py does.
LEFT_OUT = {"member_id": "0", "key_id": "0", "user": "''", "connector": "''",
            "workspace": "''", "channel": "''", "alias": "''", "status": "''"}  # fmt: skip


def _half_hour(column: str) -> str:
    """The UTC half hour a quarter-hour bucket is in."""
    if op.get_bind().dialect.name == "postgresql":
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (f"((date_trunc('hour', {utc}) + CASE WHEN extract(minute FROM {utc}) >= 30 "
                f"THEN interval '30 minutes' ELSE interval '0 minutes' END) AT TIME ZONE 'UTC')")  # fmt: skip
    # 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC): the minutes set to 00 or 30, the rest (':00.000000'
    # in a quarter bucket) kept as it is (text() would take a literal ':00' for a parameter).
    return (f"(substr({column}, 1, 14) || CASE WHEN substr({column}, 15, 2) < '30' "
            f"THEN '00' ELSE '30' END || substr({column}, 17))")  # fmt: skip


def upgrade() -> None:
    backfill()


def backfill() -> None:
    """Each cube's half-hour rows summed from its full cube's quarter rows: one INSERT …
    SELECT per cube."""
    left = ", ".join(f'"{name}"' for name in LEFT_OUT)
    left_values = ", ".join(LEFT_OUT.values())
    sums = ", ".join(f"sum({name})" for name in SUMS)
    half = _half_hour("bucket")
    for cube, source in CUBES.items():
        op.execute(
            f"INSERT INTO usage_rollups (cube, grain, bucket, team_id, deployment, bin, "
            f"{left}, {', '.join(SUMS)}) SELECT '{cube}', '30m', {half}, team_id, "
            f"deployment, bin, {left_values}, {sums} FROM usage_rollups "
            f"WHERE cube = '{source}' AND grain = '15m' GROUP BY {half}, team_id, deployment, bin"
        )


def downgrade() -> None:
    named = ", ".join(f"'{cube}'" for cube in CUBES)
    op.execute(f"DELETE FROM usage_rollups WHERE cube IN ({named}) AND grain = '30m'")
