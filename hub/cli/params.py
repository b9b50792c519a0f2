"""Command-line value types that refuse what the ledger cannot hold."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import click

MAX_USD = Decimal(1_000_000_000)  # a billion dollars: past it, a typo rather than a budget
MAX_TOKENS = 10**15


class UsdAmount(click.ParamType[int]):
    """A non-negative USD amount, exact to the micro-dollar: `5`, `0.25`, `19.99`. Returned as
    integer micro-USD. nan, inf, negatives, more than six decimals and absurd sums are refused."""

    name = "usd"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().removeprefix("$")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            self.fail(f"'{value}' is not an amount in USD such as 5 or 19.99", param, ctx)
        if not amount.is_finite():
            self.fail(f"'{value}' is not a finite amount", param, ctx)
        if amount < 0:
            self.fail(f"'{value}' is negative", param, ctx)
        if amount > MAX_USD:
            self.fail(f"'{value}' is more than {MAX_USD:,} USD", param, ctx)
        micros = amount * 1_000_000
        if micros != micros.to_integral_value():
            self.fail(f"'{value}' has more than six decimals", param, ctx)
        return int(micros)


USD = UsdAmount()
TOKENS = click.IntRange(0, MAX_TOKENS)
