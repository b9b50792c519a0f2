"""The rollup cubes: which dimensions each keeps. A report reads the smallest cube that has
every dimension it filters or groups by, so `hub usage --by model` sums a few hundred rows a
month however many records there are, while the `all` cube still answers any drill-down."""

from __future__ import annotations

from collections.abc import Iterable

# Rollup columns (hub/store/rollup_tables.py) that identify where usage came from.
DIMENSION_COLUMNS = (
    "team_id",
    "member_id",
    "key_id",
    "user",
    "connector",
    "workspace",
    "channel",
    "alias",
    "deployment",
    "status",
)
# Smallest first. Every cube keeps the team and the status (error counts, cached requests).
CUBES: dict[str, frozenset[str]] = {
    "model": frozenset({"team_id", "alias", "deployment", "connector", "status"}),
    "where": frozenset({"team_id", "connector", "workspace", "channel", "status"}),
    "who": frozenset({"team_id", "member_id", "user", "key_id", "connector", "status"}),
    "all": frozenset(DIMENSION_COLUMNS),
}
GRAINS = ("hour", "day")

# Cubes of one per-request measure: their rows are also keyed by the measure's bin (the
# `bin` column; 0 in the cubes above), so they hold a histogram of it that rollups can merge
# (hub/ledger/latency_bins.py). Summaries never read them; `hub/ledger/histograms.py` does.
MEASURE_DIMENSIONS = frozenset({"team_id", "alias", "deployment", "connector", "status"})
MEASURE_CUBES: dict[str, frozenset[str]] = {
    "latency": MEASURE_DIMENSIONS,  # bin: latency_ms's
    "ttft": MEASURE_DIMENSIONS,  # bin: ttft_ms's; requests without a first token are left out
}


def cube_for(columns: Iterable[str]) -> str:
    """The smallest cube that keeps every one of these columns."""
    wanted = set(columns)
    return next(name for name, kept in CUBES.items() if wanted <= kept)
