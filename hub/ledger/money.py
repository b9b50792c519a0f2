"""Integer micro-dollars in, human strings and exact decimals out."""

from __future__ import annotations

from decimal import Decimal

MICROS_PER_USD = 1_000_000


def usd_to_micros(usd: float | str | Decimal) -> int:
    return int(Decimal(str(usd)) * MICROS_PER_USD)


def micros_to_usd(micros: int) -> float:
    """Exact to the micro-dollar: a float with at most six decimals, for JSON. The float
    nearest the exact quotient, as `float(Decimal(micros) / MICROS_PER_USD)` is, without a
    Decimal (int / int is correctly rounded in CPython; the metrics add one per usage
    record; tests/hub/observability/test_metrics_usd.py)."""
    return micros / MICROS_PER_USD


def format_usd(micros: int) -> str:
    value = Decimal(micros) / MICROS_PER_USD
    if micros and abs(micros) < 10_000:
        return f"${value:.6f}".rstrip("0")
    return f"${value:,.2f}"
