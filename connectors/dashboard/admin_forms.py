"""Reading the administration forms: every refusal names its field, and the page is drawn
again with the message next to that field and everything that was typed still in place.

Bounds are those of the admin API (hub ids and figures fit their 64-bit and 32-bit columns;
text PostgreSQL can store), so a form can never get a value past the services that the API
would have refused.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import NumberFormatError, parse_decimal
from multidict import MultiDictProxy

from connectors.dashboard.i18n import Numbers
from hub.body_models import storable
from hub.ledger.money import usd_to_micros

MAX_PER_MINUTE = 2**31 - 1  # rate limits live in 32-bit columns
MAX_TOKENS = 10**15
MAX_USD = Decimal(1_000_000_000)
_SEPARATORS = re.compile(r"[\s,]+")


class FormError(Exception):
    """Bad input in one field; `status` is 400, or 403 when the role may not do it."""

    def __init__(self, field: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


@dataclasses.dataclass(frozen=True, slots=True)
class FormState:
    """What a page needs to draw one of its forms again: which form, its message and field,
    and the values as typed."""

    form: str = ""
    field: str = ""
    error: str = ""
    values: Mapping[str, str | list[str]] = dataclasses.field(default_factory=dict)

    def value(self, form: str, name: str, default: str = "") -> str:
        if form != self.form:
            return default
        found = self.values.get(name, default)
        return found[0] if isinstance(found, list) else found

    def chosen(self, form: str, name: str) -> list[str]:
        if form != self.form:
            return []
        found = self.values.get(name, [])
        return found if isinstance(found, list) else [found]

    def error_for(self, form: str, name: str) -> str:
        return self.error if form == self.form and name == self.field else ""

    def general_error(self, form: str, names: Sequence[str] = ()) -> str:
        """The form's message when it is about no field drawn by the form."""
        if form != self.form or not self.error or self.field in names:
            return ""
        return self.error


class Form:
    """A posted form (without its CSRF token); `_` translates the messages, and numbers are
    read as `language` writes them (German: `1.000,50`; English: `1,000.50`)."""

    def __init__(
        self,
        name: str,
        posted: Mapping[str, str | list[str]],
        gettext: Callable[[str], str],
        language: str = "en",
    ) -> None:
        self.name = name
        self.values = dict(posted)
        self._ = gettext
        self.language = language

    @classmethod
    def of(
        cls,
        name: str,
        posted: MultiDictProxy[Any],
        gettext: Callable[[str], str],
        language: str = "en",
    ) -> Form:
        """From aiohttp's multidict: repeated names (checkboxes) become lists; files are
        ignored (no form here has one)."""
        values: dict[str, str | list[str]] = {}
        for key in posted.keys():
            if key == "csrf" or key in values:
                continue
            found = [v for v in posted.getall(key) if isinstance(v, str)]
            values[key] = found if len(found) > 1 else (found[0] if found else "")
        return cls(name, values, gettext, language)

    def state(self, error: FormError) -> FormState:
        return FormState(self.name, error.field, error.message, self.values)

    def raw(self, name: str) -> str:
        found = self.values.get(name, "")
        return found[0] if isinstance(found, list) else found

    def many(self, name: str) -> list[str]:
        found = self.values.get(name, [])
        return found if isinstance(found, list) else ([found] if found else [])

    def text(self, name: str, *, required: bool = False, max_len: int = 200) -> str:
        value = self.raw(name).strip()
        if required and not value:
            raise FormError(name, self._("Fill in this field."))
        if len(value) > max_len or not _storable(value):
            raise FormError(
                name, self._("Use at most %(n)s characters of plain text.") % {"n": max_len}
            )
        return value

    def choice(self, name: str, options: Sequence[str]) -> str:
        value = self.raw(name)
        if value not in options:
            raise FormError(name, self._("Choose one of the options."))
        return value

    def integer(self, name: str, *, low: int, high: int) -> int | None:
        """A whole number (thousands separators allowed); empty means none."""
        value = self.raw(name).strip().replace("_", "")
        if not value:
            return None
        if self.language != "en":
            value = self._english(value)
        value = value.replace(",", "")
        if not value.isascii() or not value.isdigit() or len(value) > 19:
            raise FormError(name, self._("Enter a whole number, such as 1000."))
        number = int(value)
        if not low <= number <= high:
            numbers = Numbers(self.language)
            raise FormError(
                name,
                self._("Enter a number from %(low)s to %(high)s.")
                % {"low": numbers.integer(low), "high": numbers.integer(high)},
            )
        return number

    def _english(self, value: str) -> str:
        """A number typed in the form's language, as English digits; `?` if it is none
        (`25.00` is refused in German, rather than read as 2,500)."""
        try:
            return f"{parse_decimal(value, locale=self.language, strict=True):f}"
        except (NumberFormatError, ValueError):
            return "?"

    def usd_micros(self, name: str) -> int | None:
        """An amount in US dollars (`12.50`, `$1,000`), as micro-dollars; empty means none."""
        value = self.raw(name).strip().strip("$").strip()
        if not value:
            return None
        value = self._english(value) if self.language != "en" else value.replace(",", "")
        try:
            amount = Decimal(value)
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or not 0 <= amount <= MAX_USD:
            raise FormError(
                name,
                self._("Enter an amount in US dollars from 0 to 1,000,000,000, such as 25.00."),
            )
        if amount != amount.quantize(Decimal("0.000001")):
            raise FormError(name, self._("Use at most six decimals (a micro-dollar)."))
        return usd_to_micros(amount)

    def moment(self, name: str) -> datetime | None:
        """A date and time in UTC (`datetime-local`: 2026-12-31T18:00) or a date; empty: none."""
        value = self.raw(name).strip()
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise FormError(
                name, self._("Enter a date and time, such as 2026-12-31 18:00 (UTC).")
            ) from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def words(self, name: str, *, max_items: int = 100, max_len: int = 100) -> list[str]:
        """Items separated by spaces, commas or new lines (a textarea of networks)."""
        items = [w for w in _SEPARATORS.split(self.raw(name)) if w]
        if len(items) > max_items or any(len(w) > max_len or not _storable(w) for w in items):
            raise FormError(
                name, self._("List at most %(n)s items, one per line.") % {"n": max_items}
            )
        return items


def _storable(value: str) -> bool:
    """Text both databases accept (`hub.body_models.storable`) and a form field may hold: no
    control character but tab and line breaks."""
    return storable(value) and not any(ord(c) < 32 and c not in "\t\n\r" for c in value)
