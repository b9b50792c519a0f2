"""The rollup cubes: which dimensions each keeps. A report reads the smallest cube that has
every dimension it filters or groups by, so `hub usage --by model` sums a few hundred rows a
month however many records there are, while the `all` cube still answers any drill-down."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# The dimensions are listed once, with the table (hub/store/rollup_tables.py).
from hub.store.rollup_tables import DIMENSION_COLUMNS as DIMENSION_COLUMNS

# Smallest first. Every cube keeps the team and the status (error counts, cached requests).
CUBES: dict[str, frozenset[str]] = {
    "model": frozenset({"team_id", "alias", "deployment", "connector", "status"}),
    "where": frozenset({"team_id", "connector", "workspace", "channel", "status"}),
    "who": frozenset({"team_id", "member_id", "user", "key_id", "connector", "status"}),
    "all": frozenset(DIMENSION_COLUMNS),
}
# A UTC quarter hour and a UTC day: every zone's offset is whole quarter hours, so a local
# hour is four quarter buckets and a local day a day bucket with a few quarters moved
# (hub/ledger/summary_plan.py), none of them read from the records.
QUARTER_GRAIN = "15m"
HOUR_GRAIN = "1h"  # kept by `where` and the per-deployment histograms (below)
HALF_GRAIN = "30m"  # the per-deployment histograms' finest grain (half-hour zones)
SIX_HOUR_GRAIN = "6h"  # the per-deployment histograms' coarsest below the day
GRAINS = (QUARTER_GRAIN, "day")
# The cubes that also keep UTC hours: `where`, for tables by channel and hour (a zone a whole
# number of hours from UTC reads a local hour as one hour bucket, not four quarters).
HOURLY_CUBES = frozenset({"where"})

# Cubes of one per-request measure: their rows are also keyed by the measure's bin (the
# `bin` column; 0 in the cubes above), so they hold a histogram of it that rollups can merge.
# Summaries never read them; hub/ledger/histograms.py (latency, ttft) and
# hub/ledger/insight_reads.py (size, failover) do.
MEASURE_DIMENSIONS = frozenset({"team_id", "alias", "deployment", "connector", "status"})
PLACE_DIMENSIONS = frozenset({"team_id", "connector", "workspace", "channel", "alias", "status"})


DEPLOYMENT_DIMENSIONS = frozenset({"team_id", "deployment"})
_DEPLOYMENT_GRAINS = (HALF_GRAIN, HOUR_GRAIN, SIX_HOUR_GRAIN, "day")


@dataclass(frozen=True, slots=True)
class MeasureCube:
    dimensions: frozenset[str]
    grains: tuple[str, ...] = GRAINS
    measure: str = ""  # the bin kept: the cube's own name's, else this measure's


MEASURE_CUBES: dict[str, MeasureCube] = {
    "latency": MeasureCube(MEASURE_DIMENSIONS),  # bin: latency_ms's (latency_bins.py)
    "ttft": MeasureCube(MEASURE_DIMENSIONS),  # bin: ttft_ms's; only requests with a first token
    # bin: 1 when the router failed over from the deployment tried first (kept as
    # `deployment`), else 0; only requests that reached a deployment.
    "failover": MeasureCube(MEASURE_DIMENSIONS),
    # bin: the prompt's and the answer's size class (size_bin), for cheaper-model suggestions
    # per channel; whole UTC days are all they read.
    "size": MeasureCube(PLACE_DIMENSIONS, ("day",)),
    # The latency and TTFT bins again, kept by team and deployment only, per UTC hour and
    # day: what percentiles per deployment, per day or for a whole team read (the models
    # page, the overview). A quarter of the `latency` cube holds about one row per record
    # (6 deployments x 3 connectors x 2 statuses x 35 bins against ~350 records); an hour
    # here holds ~200 and a day ~210, so a month read by local day (Kolkata's 22 quarters
    # a day moved) sums a fifth of the rows. Quarters that are not whole UTC hours are
    # still read from the `latency` cube's (hub/ledger/histograms.py). Half hours too
    # (migration 0019): a zone half an hour off the hour (Kolkata) moves 5.5 hours of each
    # UTC day, five hour buckets and a half hour (~190 rows) rather than two of the
    # `latency` cube's quarters (~460); only 45-minute zones (Kathmandu) still read those.
    # And six UTC hours (migration 0020): a moved part of a day that covers most of six
    # hours is read as them, what it does not cover moved back (Kolkata: 18:00-24:00 less
    # 18:00-18:30, ~380 rows instead of ~1,150; New York: 00:00-06:00 less 05:00-06:00).
    "dep_lat": MeasureCube(DEPLOYMENT_DIMENSIONS, _DEPLOYMENT_GRAINS, "latency"),
    "dep_ttft": MeasureCube(DEPLOYMENT_DIMENSIONS, _DEPLOYMENT_GRAINS, "ttft"),
}
# The leaner cube of each measure that has one, read when a query needs no other dimension.
DEPLOYMENT_CUBES = {"latency": "dep_lat", "ttft": "dep_ttft"}
SIZE_CLASSES = 32  # bit lengths 0..31 of a token count


def size_class(tokens: int) -> int:
    """0 for none, k for 2^(k-1) ≤ tokens < 2^k: "under 2^k tokens" is class ≤ k."""
    return min(max(tokens, 0).bit_length(), SIZE_CLASSES - 1)


def size_bin(prompt_tokens: int, completion_tokens: int) -> int:
    return size_class(prompt_tokens) * SIZE_CLASSES + size_class(completion_tokens)


def cube_for(columns: Iterable[str]) -> str:
    """The smallest cube that keeps every one of these columns."""
    wanted = set(columns)
    return next(name for name, kept in CUBES.items() if wanted <= kept)


def hourly_cube_for(columns: Iterable[str]) -> str | None:
    """The smallest cube that keeps every one of these columns and UTC hours, if any."""
    wanted = set(columns)
    return next((name for name, kept in CUBES.items()
                 if name in HOURLY_CUBES and wanted <= kept), None)  # fmt: skip
