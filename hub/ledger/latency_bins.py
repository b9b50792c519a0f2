"""Fixed log-scale bins for latencies, so percentiles can be read from rollups.

A rollup cannot keep every latency, but it can keep how many requests fell in each bin, and
bin counts add: the merged histogram of any hours, days, teams or deployments is the sum of
theirs. Bin edges grow by 2^(1/8) (Prometheus native histograms' schema 3), so a percentile
read as its bin's geometric middle is within ±4.4% of the exact nearest-rank value
(`RELATIVE_ERROR`). Bin 0 holds 0 ms; bin i ≥ 1 holds the integer milliseconds from
`LOWER[i - 1]` up to `LOWER[i]` (exclusive); the last bin, everything from ~17.5 minutes.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass

STEPS_PER_DOUBLING = 8
TOP_DOUBLING = 20  # 2^20 ms ≈ 17.5 minutes: longer requests share the last bin
GROWTH = 2 ** (1 / STEPS_PER_DOUBLING)
RELATIVE_ERROR = math.sqrt(GROWTH) - 1  # ≈ 0.0443
# LOWER[k]: the smallest whole millisecond in bin k + 1 (the ceiling of 2^(k/8)).
LOWER: tuple[int, ...] = tuple(
    math.ceil(2 ** (k / STEPS_PER_DOUBLING)) for k in range(STEPS_PER_DOUBLING * TOP_DOUBLING)
)
BINS = len(LOWER) + 1


def bin_of(milliseconds: int) -> int:
    """The bin a latency falls in: how many bins' lower edges it reaches."""
    return bisect_right(LOWER, milliseconds)


def bin_range(index: int) -> tuple[int, int | None]:
    """The whole milliseconds a bin holds: [low, high), high None for the last bin."""
    if index == 0:
        return 0, LOWER[0]
    high = LOWER[index] if index < len(LOWER) else None
    return LOWER[index - 1], high


def bin_value(index: int) -> int:
    """What a bin stands for: the geometric middle of its edges (0 for bin 0)."""
    if index == 0:
        return 0
    k = index - 1  # the bin spans [2^(k/8), 2^((k+1)/8))
    low, high = bin_range(index)
    middle = round(2 ** ((k + 0.5) / STEPS_PER_DOUBLING))
    return max(low, middle if high is None else min(middle, high - 1))


def sql_bin(column: str) -> str:
    """`bin_of` as an SQL expression over an integer column (migrations' backfill)."""
    cases = " ".join(
        f"WHEN {column} >= {low} THEN {k + 1}" for k, low in reversed(list(enumerate(LOWER)))
    )
    return f"(CASE {cases} ELSE 0 END)"


@dataclass(frozen=True, slots=True)
class Histogram:
    """Request counts per bin (absent bins: none), merged from rollup rows."""

    counts: Mapping[int, int]

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    def __add__(self, other: Histogram) -> Histogram:
        merged = dict(self.counts)
        for index, n in other.counts.items():
            merged[index] = merged.get(index, 0) + n
        return Histogram({k: v for k, v in merged.items() if v})

    def percentile_bin(self, fraction: float) -> int | None:
        """The bin of the nearest-rank percentile: the ⌈fraction·n⌉-th smallest request."""
        total = self.count
        if total <= 0:
            return None
        rank = max(1, math.ceil(fraction * total))
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                return index
        return max(self.counts)

    def percentile(self, fraction: float) -> int | None:
        """The percentile in milliseconds, within `RELATIVE_ERROR` of the exact one."""
        index = self.percentile_bin(fraction)
        return None if index is None else bin_value(index)


EMPTY = Histogram({})


def _decimal(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def format_ms(
    value: int | None,
    *,
    decimal: Callable[[float, int], str] = _decimal,
    integer: Callable[[int], str] = str,
) -> str:
    """A latency as people read it: `850 ms`, `2.10 s`, `14.2 s`; `–` for none. The number
    formats are the caller's (the dashboard passes its language's)."""
    if value is None:
        return "–"
    if value >= 10_000:
        return f"{decimal(value / 1000, 1)} s"
    if value >= 1000:
        return f"{decimal(value / 1000, 2)} s"
    return f"{integer(value)} ms"
