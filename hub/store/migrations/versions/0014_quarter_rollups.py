"""quarter-hour rollups: the UTC hour grain replaced by a UTC quarter-hour grain ('15m'),
backfilled from the records

Every zone's offset is whole quarter hours, so a local hour in Kolkata or Kathmandu is four
quarter buckets instead of an hour bucket and half an hour of records. A record still adds
to one bucket below the day in each cube (the same rows per record).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 17:40:00
"""

import math

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# The cubes of hub/ledger/cubes.py that had an hour grain, as they were when this migration
# was written: the value each keeps of a dimension (how hub/ledger/rollups.py stores an
# absent one), or what it stores for one it leaves out.
DIMENSIONS = ("team_id", "member_id", "key_id", "user", "connector", "workspace", "channel",
              "alias", "deployment", "status")  # fmt: skip
KEPT = {
    "team_id": "team_id", "member_id": "coalesce(member_id, 0)", "key_id": "coalesce(key_id, 0)",
    "user": "coalesce(\"user\", '')", "connector": "connector",
    "workspace": "coalesce(workspace, '')", "channel": "coalesce(channel, '')", "alias": "alias",
    "deployment": "coalesce(deployment, '')", "status": "status",
}  # fmt: skip
LEFT_OUT = {"member_id": "0", "key_id": "0"}  # others: ''
MEASURED = ("team_id", "alias", "deployment", "connector", "status")
CUBES: dict[str, tuple[str, ...]] = {
    "model": ("team_id", "alias", "deployment", "connector", "status"),
    "where": ("team_id", "connector", "workspace", "channel", "status"),
    "who": ("team_id", "member_id", "user", "key_id", "connector", "status"),
    "all": DIMENSIONS,
    "latency": MEASURED,
    "ttft": MEASURED,
    "failover": MEASURED,
}
# hub/ledger/latency_bins.py as it was: bin 0 is 0 ms, bin k + 1 starts at ceil(2^(k/8)) ms.
LOWER = [math.ceil(2 ** (k / 8)) for k in range(160)]
FIRST = "coalesce(first_deployment, deployment)"


def _bin(column: str) -> str:
    cases = " ".join(
        f"WHEN {column} >= {low} THEN {k + 1}" for k, low in reversed(list(enumerate(LOWER)))
    )
    return f"(CASE {cases} ELSE 0 END)"


# Per measure cube: the bin, and which records it holds.
BINS = {
    "latency": (_bin("latency_ms"), "1 = 1"),
    "ttft": (_bin("ttft_ms"), "ttft_ms IS NOT NULL"),
    "failover": (
        "(CASE WHEN first_deployment IS NOT NULL AND "
        "(deployment IS NULL OR first_deployment <> deployment) THEN 1 ELSE 0 END)",
        f"{FIRST} IS NOT NULL",
    ),
}
SUMS = (
    "requests, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, "
    "reasoning_tokens, cost_micros, saved_micros, latency_ms, ttft_ms, ttft_requests"
)
RECORD_SUMS = (
    "count(*), sum(prompt_tokens), sum(completion_tokens), sum(cached_tokens), "
    "sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_micros), sum(saved_micros), "
    "sum(latency_ms), sum(coalesce(ttft_ms, 0)), count(ttft_ms)"
)
COLUMNS = 'cube, grain, bucket, team_id, member_id, key_id, "user", connector, workspace, ' \
    "channel, alias, deployment, status, bin"  # fmt: skip


def _quarter(column: str) -> str:
    """The UTC quarter hour a datetime column's value is in."""
    if op.get_bind().dialect.name == "postgresql":
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (f"((date_trunc('hour', {utc}) + floor(extract(minute FROM {utc}) / 15) "
                "* interval '15 minutes') AT TIME ZONE 'UTC')")  # fmt: skip
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC). The colon is
    # escaped: op.execute's text() would take ':00' for a bind parameter.
    return (f"(substr({column}, 1, 14) || printf('%02d', "
            f"CAST(substr({column}, 15, 2) AS INTEGER) / 15 * 15) || '\\:00.000000')")  # fmt: skip


def _hour(column: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"(date_trunc('hour', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
    return f"(substr({column}, 1, 13) || ':00:00.000000')"


def upgrade() -> None:
    backfill()


def backfill(cubes: tuple[str, ...] = tuple(CUBES)) -> None:
    """These cubes' hour rows replaced by quarter-hour rows of the records already there (as
    hub/ledger/rollups.py writes them): one INSERT … SELECT per cube."""
    named = ", ".join(f"'{cube}'" for cube in cubes)
    op.execute(f"DELETE FROM usage_rollups WHERE grain = 'hour' AND cube IN ({named})")
    bucket = _quarter("created_at")
    for cube in cubes:
        kept = CUBES[cube]
        values = {name: KEPT[name] if name in kept else LEFT_OUT.get(name, "''")
                  for name in DIMENSIONS}  # fmt: skip
        binned, holds = BINS.get(cube, ("0", "1 = 1"))
        if cube == "failover":  # kept by the deployment tried first
            values["deployment"] = FIRST
        grouped = ", ".join([bucket, *(values[name] for name in kept)]
                            + ([binned] if cube in BINS else []))  # fmt: skip
        op.execute(
            f"INSERT INTO usage_rollups ({COLUMNS}, {SUMS}) SELECT '{cube}', '15m', {bucket}, "
            f"{', '.join(values.values())}, {binned}, {RECORD_SUMS} FROM usage_records "
            f"WHERE {holds} GROUP BY {grouped}"
        )


def downgrade() -> None:
    """Hour rows again, each the sum of its four quarters."""
    hour = _hour("bucket")
    keys = 'team_id, member_id, key_id, "user", connector, workspace, channel, alias, ' \
        "deployment, status, bin"  # fmt: skip
    sums = ", ".join(f"sum({name.strip()})" for name in SUMS.split(","))
    op.execute(
        f"INSERT INTO usage_rollups ({COLUMNS}, {SUMS}) SELECT cube, 'hour', {hour}, {keys}, "
        f"{sums} FROM usage_rollups WHERE grain = '15m' GROUP BY cube, {hour}, {keys}"
    )
    op.execute("DELETE FROM usage_rollups WHERE grain = '15m'")
