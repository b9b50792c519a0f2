"""The report's statistics against published values (Student t tables; textbook examples)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.experiments.stats import (
    Moments,
    mean,
    share,
    t_quantile,
    t_two_sided,
    two_proportions,
    welch,
)


@pytest.mark.parametrize(
    ("df", "quantile"), [(1, 12.706), (5, 2.571), (10, 2.228), (30, 2.042), (120, 1.980)]
)
def test_t_quantiles_match_the_table(df: int, quantile: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(quantile, abs=5e-4)


def test_welch_on_a_hand_computed_example() -> None:
    # means 3 and 5, variances 2.5 each over 5 values: t = -2, df = 8, p = 0.0805 (t table).
    assert welch(Moments.of([1, 2, 3, 4, 5]), Moments.of([3, 4, 5, 6, 7])) == pytest.approx(
        0.0805, abs=1e-4
    )
    assert welch(Moments.of([4, 4]), Moments.of([4, 4])) == 1.0
    assert welch(Moments.of([4]), Moments.of([4, 5])) is None


def test_two_proportions_and_wilson() -> None:
    # 30/40 against 15/40: pooled p = 0.5625, z = 3.388, p = 0.0007.
    assert two_proportions(30, 40, 15, 40) == pytest.approx(0.000704, abs=2e-5)
    assert two_proportions(5, 10, 5, 10) == pytest.approx(1.0)
    assert two_proportions(0, 0, 1, 2) is None
    wilson = share(30, 40)  # Wilson 95%: 0.598 to 0.858
    assert (wilson.value, wilson.n) == (0.75, 40)
    assert wilson.interval is not None
    assert (wilson.interval.low, wilson.interval.high) == pytest.approx((0.598, 0.858), abs=1e-3)


def test_the_mean_interval_is_the_t_interval() -> None:
    estimate = mean(Moments.of([1, 2, 3, 4]))  # sd 1.291, t(3) = 3.182
    assert estimate.value == 2.5 and estimate.interval is not None
    half = 3.182 * 1.291 / 2
    assert (estimate.interval.low, estimate.interval.high) == pytest.approx(
        (2.5 - half, 2.5 + half), abs=2e-3
    )
    assert mean(Moments.of([7])).interval is None


@settings(max_examples=40, deadline=None, derandomize=True)
@given(df=st.floats(1, 500), p=st.floats(0.55, 0.999))
def test_the_quantile_inverts_the_tail(df: float, p: float) -> None:
    assert t_two_sided(t_quantile(p, df), df) == pytest.approx(2 * (1 - p), abs=1e-9)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(values=st.lists(st.integers(0, 10**9), min_size=2, max_size=30))
def test_moments_give_the_exact_variance(values: list[int]) -> None:
    m = sum(values) / len(values)
    expected = sum((v - m) ** 2 for v in values) / (len(values) - 1)
    assert math.isclose(Moments.of(values).variance, expected, rel_tol=1e-9, abs_tol=1e-6)
