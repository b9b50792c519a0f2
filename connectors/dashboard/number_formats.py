"""Babel's number, percent and money formats, without Babel's cost per figure.

A usage table of 1,500 rows formats some 7,000 figures, and Babel parses its pattern and
looks up the locale's symbols for each (two thirds of such a page's time). `FastFormats`
reads a language's symbols and affixes from Babel once, then formats non-negative figures
with Python's own grouping (`f"{x:,}"`) in them. It is used only for a language whose
grouping is by threes and whose affixes it could read, and only once it has checked itself
against Babel on a set of probes (tests/connectors/dashboard/test_i18n.py checks many more);
anything else (negative figures, other languages) still goes to Babel.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_decimal_symbol,
    get_group_symbol,
    parse_pattern,
)

_PROBE = Decimal("1234567.25")  # a figure with every kind of symbol in it


@dataclass(frozen=True, slots=True)
class FastFormats:
    symbols: dict[int, str]  # str.translate: Python's ',' and '.' to the language's
    money: tuple[str, str]  # what comes before and after the amount
    percent: tuple[str, str]
    plain: bool = False  # the language writes ',' and '.' as Python does: nothing to translate

    def _digits(self, value: Decimal | int, digits: int) -> str:
        text = f"{value:,.{digits}f}"
        return text if self.plain else text.translate(self.symbols)

    def integer(self, value: int) -> str:
        if type(value) is int:  # exact however large (",.0f" goes through a float)
            text = f"{value:,}"
            return text if self.plain else text.translate(self.symbols)
        return self._digits(value, 0)

    def decimal(self, value: float, digits: int) -> str:
        # Babel turns a float into Decimal(str(value)) and rounds it half to even.
        return self._digits(_rounded(Decimal(str(value)), digits), digits)

    def percent_of(self, ratio: float, digits: int) -> str:
        before, after = self.percent
        return before + self._digits(_rounded(Decimal(str(ratio)) * 100, digits), digits) + after

    def usd(self, value: Decimal) -> str:
        before, after = self.money
        return before + self._digits(_rounded(value, 2), 2) + after


def _rounded(value: Decimal, digits: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-digits))  # the context's rounding, as Babel


def _affixes(formatted: str, number: str) -> tuple[str, str] | None:
    at = formatted.find(number)
    if at < 0 or formatted.count(number) != 1:
        return None
    return formatted[:at], formatted[at + len(number) :]


def percent_pattern(locale: Locale, digits: int) -> str:
    """The language's percent pattern with `digits` decimals (`#,##0.0%`)."""
    pattern: str = locale.percent_formats[None].pattern
    at = pattern.rfind("0")
    fraction = "0." + "0" * digits if digits else "0"
    return pattern[:at] + fraction + pattern[at + 1 :]


@cache
def fast_formats(locale: Locale) -> FastFormats | None:
    """The language's fast formats, None when they would not equal Babel's."""
    grouping = parse_pattern(locale.decimal_formats[None]).grouping
    if grouping != (3, 3):
        return None
    symbols = str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale)})
    plain = f"{_PROBE:,.2f}".translate(symbols)
    money = _affixes(format_currency(_PROBE, "USD", locale=locale), plain)
    percent = _affixes(format_percent(_PROBE / 100, percent_pattern(locale, 2), locale=locale),
                       plain)  # fmt: skip
    if money is None or percent is None:
        return None
    fast = FastFormats(symbols, money, percent, symbols == str.maketrans({",": ",", ".": "."}))
    if not _agrees(fast, locale):
        return None
    return fast


def _agrees(fast: FastFormats, locale: Locale) -> bool:
    integers = (0, 7, 999, 1_000, 12_345, 1_234_567, 10**12 + 5)
    floats = (0.0, 0.05, 0.15, 0.25, 1.0, 12.345, 999.95, 1234.5, 0.125)
    monies = (Decimal("0.01"), Decimal("0.125"), Decimal("0.135"), Decimal("1234.5"),
              Decimal("999999.995"), Decimal("12"))  # fmt: skip
    return (
        all(fast.integer(n) == format_decimal(n, locale=locale) for n in integers)
        and all(fast.decimal(x, d) == format_decimal(x, format="#,##0." + "0" * d,
                                                     locale=locale)
                for x in floats for d in (1, 2))
        and all(fast.percent_of(x, d) == format_percent(x, percent_pattern(locale, d),
                                                        locale=locale)
                for x in floats for d in (0, 1, 2))
        and all(fast.usd(m) == format_currency(m, "USD", locale=locale) for m in monies)
    )  # fmt: skip
