"""Dollars from micro-dollars (`micros_to_usd`, which the spend counters add per usage record):
the float nearest the exact quotient, as the exact Decimal's, without a Decimal."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.ledger.money import MICROS_PER_USD, micros_to_usd


@settings(max_examples=2000, derandomize=True, database=None, deadline=None)
@given(
    st.integers(min_value=-(2**63), max_value=2**63)
    | st.sampled_from([1, 5, 999_999, 1_000_001, 123_456_789, 2**53 + 1, 10**18 + 7])
)
def test_dollars_are_the_float_nearest_the_exact_quotient(micros: int) -> None:
    assert micros_to_usd(micros) == float(Decimal(micros) / MICROS_PER_USD)
