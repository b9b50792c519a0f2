"""The spend counters' dollars: the same float as the ledger's `micros_to_usd`, without its
Decimal on every usage record."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.ledger.money import micros_to_usd
from hub.observability.metrics import _usd


@settings(max_examples=2000, derandomize=True, database=None, deadline=None)
@given(
    st.integers(min_value=-(2**63), max_value=2**63)
    | st.sampled_from([1, 5, 999_999, 1_000_001, 123_456_789, 2**53 + 1, 10**18 + 7])
)
def test_dollars_are_the_ledger_s_float(micros: int) -> None:
    assert _usd(micros) == micros_to_usd(micros)
