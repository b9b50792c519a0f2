"""The dashboard's languages: the translation catalogues, which language a request gets, and
numbers, money and dates in that language.

The catalogues are the `.po` files under `locale/` (`make i18n` extracts the strings and
updates them), compiled in memory when the dashboard starts, so no compiled `.mo` file is
kept in the repository and `make run` needs no build step. A request's language is the
`hub_lang` cookie that the language links set, else the best match of its Accept-Language
header, else `[connectors.dashboard] default_language`.

Exports (CSV, JSON) never go through here: they are the same in every language.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_datetime, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

from connectors.dashboard.number_formats import fast_formats, percent_pattern
from hub.ledger.latency_bins import format_ms
from hub.ledger.money import MICROS_PER_USD

LOCALE_DIR = Path(__file__).parent / "locale"
COOKIE = "hub_lang"
# English is the source language (the msgids); every other one has a catalogue.
LANGUAGES = ("en", "de")
NAMES = {"en": "English", "de": "Deutsch"}  # each in its own language, for the switch


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "marked, translated later"
    """Marks a constant for `make i18n`; the page translates it when it shows it."""
    return message


# The roles as pages name them (hub.roles; the values in forms and URLs stay these words).
ROLE_NAMES = {"owner": N_("owner"), "admin": N_("admin"), "member": N_("member"),
              "viewer": N_("viewer")}  # fmt: skip


def catalogue(language: str) -> gettext.NullTranslations:
    """The language's translations, compiled from its .po file; English: the msgids."""
    if language == "en":
        return gettext.NullTranslations()
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        messages = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, messages)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def accepted(header: str) -> list[str]:
    """An Accept-Language header's languages, most wanted first (q=0 means not wanted)."""
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, n, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def choose(cookie: str | None, accept_language: str, default: str) -> str:
    """The language of a request: the cookie's if it is one of ours, else the browser's best
    match, else `default`."""
    if cookie in LANGUAGES:
        return cookie
    found = negotiate_locale(accepted(accept_language), LANGUAGES, sep="-")
    if found is not None and found.lower() in LANGUAGES:
        return found.lower()
    return default


def local_path(target: str) -> str:
    """`target` if it is a path on this site (the switch goes back there), else `/`."""
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 33 for c in target)
    ):
        return "/"
    return target


@cache
def _locale(language: str) -> Locale:
    # Babel parses a locale name on every call; a table of 1,500 rows formats ~7,000 figures.
    return Locale.parse(language)


@dataclass(frozen=True, slots=True)
class Numbers:
    """Figures as the page shows them in one language (Babel's CLDR formats)."""

    language: str

    @property
    def cldr(self) -> Locale:
        return _locale(self.language)

    def integer(self, value: int) -> str:
        fast = fast_formats(self.cldr)
        if fast is not None and value >= 0:
            return fast.integer(value)
        return format_decimal(value, locale=self.cldr)

    def decimal(self, value: float, digits: int = 1) -> str:
        fast = fast_formats(self.cldr)
        if fast is not None and value >= 0:
            return fast.decimal(value, digits)
        return format_decimal(value, format="#,##0." + "0" * digits, locale=self.cldr)

    def percent(self, ratio: float, digits: int = 1) -> str:
        """`digits` decimals, in the language's own pattern (`12.5%`, `12,5 %`)."""
        fast = fast_formats(self.cldr)
        if fast is not None and ratio >= 0:
            return fast.percent_of(ratio, digits)
        return format_percent(ratio, percent_pattern(self.cldr, digits), locale=self.cldr)

    def usd(self, micros: int) -> str:
        """Money as the hub shows it (`$1,234.50`; under a cent to the micro-dollar,
        `$0.00415`), in the language's currency pattern (`1.234,50 $`)."""
        value = Decimal(micros) / MICROS_PER_USD
        if micros and abs(micros) < 10_000:
            return format_currency(
                value, "USD", locale=self.cldr, currency_digits=False, decimal_quantization=False
            )
        fast = fast_formats(self.cldr)
        if fast is not None and micros >= 0:
            return fast.usd(value)
        return format_currency(value, "USD", locale=self.cldr)

    def usd_exact(self, micros: int) -> str:
        """A limit as it was set, to the micro-dollar (`$1,250.125`), never rounded."""
        value = Decimal(micros) / MICROS_PER_USD
        return format_currency(
            value, "USD", locale=self.cldr, currency_digits=False, decimal_quantization=False
        )

    def ms(self, value: int | None) -> str:
        """A latency (`850 ms`, `2.10 s`, `14.2 s`); `–` for none."""
        return format_ms(value, decimal=self.decimal, integer=self.integer)

    def month(self, day: date) -> str:
        """`November 2026`."""
        return format_date(day, "LLLL y", locale=self.cldr)

    def moment(self, when: datetime) -> str:
        """A date and time to the second, at the language's medium length, in `when`'s own
        timezone, naive meaning UTC (`Dec 1, 2026, 12:00:00 AM`, `01.12.2026, 00:00:00`)."""
        when = _aware(when)
        return format_datetime(when, "medium", tzinfo=when.tzinfo, locale=self.cldr)

    def minute(self, when: datetime) -> str:
        """A date and time to the minute, in `when`'s own timezone, naive meaning UTC
        (`Dec 1, 2026, 1:05 PM`, `01.12.2026, 13:05`)."""
        local = _aware(when)
        clock = _clock_text(self.language, local.time().replace(second=0, microsecond=0))
        day = _day_text(self.language, local.date())
        return str(self.cldr.datetime_formats["medium"]).format(clock, day)

    def day(self, value: date) -> str:
        """A calendar day at the language's medium length (`Dec 1, 2026`, `01.12.2026`)."""
        return _day_text(self.language, value)

    def short_day(self, value: date) -> str:
        """A day without its year, for a chart's axis (`Dec 1`, `1. Dez.`)."""
        return _short_day_text(self.language, value)

    def short_minute(self, when: datetime) -> str:
        """A day without its year and a time, in `when`'s own timezone, naive meaning UTC,
        for a chart's axis (`Dec 1, 1:05 PM`, `1. Dez., 13:05`)."""
        local = _aware(when)
        clock = _clock_text(self.language, local.time().replace(second=0, microsecond=0))
        return str(self.cldr.datetime_formats["short"]).format(clock, self.short_day(local.date()))


# A table grouped by hour shows a few hundred days and the day's 24 hours again and again;
# Babel takes ~20 µs a date and ~45 µs a time, so each is formatted once (the short time
# pattern names no timezone: the wall-clock time alone gives the text).
@lru_cache(maxsize=4096)
def _day_text(language: str, value: date) -> str:
    return format_date(value, "medium", locale=_locale(language))


@lru_cache(maxsize=4096)
def _short_day_text(language: str, value: date) -> str:
    return format_skeleton("MMMd", value, locale=_locale(language))


@lru_cache(maxsize=2048)
def _clock_text(language: str, value: time) -> str:
    return format_time(value, "short", locale=_locale(language))


def _aware(when: datetime) -> datetime:
    # The store keeps UTC; SQLite hands it back without a timezone.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def machine_time(when: datetime) -> str:
    """The value of a <time> element's `datetime` attribute: ISO 8601 to the second, with its
    offset (UTC for a naive value); the same in every language."""
    return _aware(when).isoformat(timespec="seconds")
