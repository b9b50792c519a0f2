"""six-hour per-deployment histograms: the `dep_lat` and `dep_ttft` cubes also per six UTC
hours (00, 06, 12, 18), backfilled from their own hour rows

A part of a UTC day moved to another local day that covers most of six hours is read as
those six hours, what it does not cover moved back (Kolkata's 18:30-24:00: 18:00-24:00
less 18:00-18:30, two buckets instead of five hours and a half hour). The hour rows are
exact sums of the records, so their sums by six hours are the rows hub/ledger/rollups.py
writes for the same records.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 13:20:00
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

CUBES = ("dep_lat", "dep_ttft")
KEYS = ('team_id, member_id, key_id, "user", connector, workspace, channel, alias, '
        "deployment, status, bin")  # fmt: skip
SUMS = (
    "requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens",
    "reasoning_tokens", "cost_micros", "saved_micros", "latency_ms", "ttft_ms", "ttft_requests",
)  # fmt: skip


def _six_hours(column: str) -> str:
    """The six UTC hours an hour bucket is in."""
    if op.get_bind().dialect.name == "postgresql":
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (f"((date_trunc('day', {utc}) + floor(extract(hour FROM {utc}) / 6) "
                f"* interval '6 hours') AT TIME ZONE 'UTC')")  # fmt: skip
    # 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC): the hour set to 00, 06, 12 or 18 (two digits
    # compare as text), the rest (':00:00.000000' in an hour bucket) kept as it is.
    hour = f"substr({column}, 12, 2)"
    return (f"(substr({column}, 1, 11) || CASE WHEN {hour} < '06' THEN '00' WHEN {hour} < '12' "
            f"THEN '06' WHEN {hour} < '18' THEN '12' ELSE '18' END || substr({column}, 14))")  # fmt: skip


def upgrade() -> None:
    backfill()


def backfill() -> None:
    """The cubes' six-hour rows, each the sum of its hour rows: one INSERT … SELECT."""
    six = _six_hours("bucket")
    sums = ", ".join(f"sum({name})" for name in SUMS)
    named = ", ".join(f"'{cube}'" for cube in CUBES)
    op.execute(
        f"INSERT INTO usage_rollups (cube, grain, bucket, {KEYS}, {', '.join(SUMS)}) "
        f"SELECT cube, '6h', {six}, {KEYS}, {sums} FROM usage_rollups "
        f"WHERE cube IN ({named}) AND grain = '1h' GROUP BY cube, {six}, {KEYS}"
    )


def downgrade() -> None:
    named = ", ".join(f"'{cube}'" for cube in CUBES)
    op.execute(f"DELETE FROM usage_rollups WHERE cube IN ({named}) AND grain = '6h'")
