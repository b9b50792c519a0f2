"""Reading JSON bodies, path and query parameters; every refusal names the field.

Bounds are checked here, before any value reaches the database: an id or a figure that does
not fit a 64-bit column, or a NUL that PostgreSQL refuses, is a 400 and never a 500.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from hub.errors import BadRequest, HubError
from hub.ledger.money import usd_to_micros

MAX_ID = 2**63 - 1
MAX_PER_MINUTE = 2**31 - 1  # rate limits live in 32-bit columns
MAX_TOKENS = 10**15
MAX_USD = Decimal(1_000_000_000)
_ABSENT = object()


class InvalidField(BadRequest):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Conflict(HubError):
    status = 409
    code = "conflict"


def parse_id(raw: str, field: str) -> int:
    if not _digits(raw) or not 1 <= int(raw) <= MAX_ID:
        raise InvalidField(field, f"'{field}' must be a positive integer id.")
    return int(raw)


def parse_moment(raw: Any, field: str) -> datetime:
    """An ISO 8601 date or time; one without a zone is taken as UTC."""
    if not isinstance(raw, str):
        raise InvalidField(field, f"'{field}' must be an ISO 8601 date-time string.")
    try:
        moment = datetime.fromisoformat(raw)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidField(field, f"'{field}' must be an ISO 8601 date-time string.") from exc


def _text(value: Any, field: str, *, min_len: int, max_len: int) -> str:
    if not isinstance(value, str) or not storable(value):
        raise InvalidField(field, f"'{field}' must be a string of valid Unicode text.")
    if not min_len <= len(value) <= max_len:
        raise InvalidField(field, f"'{field}' must be {min_len} to {max_len} characters long.")
    return value


def storable(value: str) -> bool:
    """Text both databases accept: no NUL, no lone surrogate (JSON allows both)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def http_url(value: str, field: str) -> str:
    """An http(s) URL with a host; malformed ones (such as a broken IPv6 literal) are a 400."""
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        valid = False
    if not valid:
        raise InvalidField(field, f"'{field}' must be an http(s) URL.")
    return value


def _integer(value: Any, field: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidField(field, f"'{field}' must be an integer from {low} to {high}.")
    return value


class Body:
    """A JSON object body; unknown fields are refused so typos do not pass silently."""

    def __init__(self, data: Mapping[str, Any], *, known: Sequence[str]) -> None:
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InvalidField(
                unknown[0], f"Unknown field '{unknown[0]}'; known: {', '.join(known)}."
            )
        self._data = data

    @classmethod
    def parse(cls, raw: bytes, *, known: Sequence[str]) -> Body:
        try:
            data = json.loads(raw or b"{}", parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidField("body", f"The body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidField("body", "The body must be a JSON object.")
        return cls(data, known=known)

    def has(self, name: str) -> bool:
        return name in self._data

    def raw(self, name: str) -> Any:
        return self._data.get(name)

    def text(
        self, name: str, *, required: bool = False, max_len: int = 200, min_len: int = 1
    ) -> str | None:
        value = self._data.get(name, _ABSENT)
        if value is _ABSENT or value is None:
            if required:
                raise InvalidField(name, f"'{name}' is required.")
            return None
        return _text(value, name, min_len=min_len, max_len=max_len)

    def choice(self, name: str, options: Sequence[str], *, default: str | None = None) -> str:
        value = self._data.get(name, default)
        if value not in options:
            raise InvalidField(name, f"'{name}' must be one of: {', '.join(options)}.")
        return str(value)

    def integer(self, name: str, *, low: int, high: int, default: int | None = None) -> int | None:
        value = self._data.get(name)
        return default if value is None else _integer(value, name, low=low, high=high)

    def usd_micros(self, name: str) -> int | None:
        """A non-negative amount in US dollars, as integer micro-dollars."""
        value = self._data.get(name)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidField(name, f"'{name}' must be an amount in US dollars.")
        amount = Decimal(str(value))
        if not 0 <= amount <= MAX_USD:
            raise InvalidField(name, f"'{name}' must be from 0 to {MAX_USD} US dollars.")
        return usd_to_micros(amount)

    def texts(self, name: str, *, max_items: int = 100, max_len: int = 2000) -> list[str] | None:
        value = self._data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or len(value) > max_items:
            raise InvalidField(name, f"'{name}' must be an array of up to {max_items} strings.")
        return [_text(v, name, min_len=0, max_len=max_len) for v in value]

    def moment(self, name: str) -> datetime | None:
        value = self._data.get(name)
        return None if value is None else parse_moment(value, name)

    def object(self, name: str, *, known: Sequence[str]) -> Body | None:
        value = self._data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise InvalidField(name, f"'{name}' must be an object.")
        return Body(value, known=known)


class Query:
    """Query-string parameters, by name."""

    def __init__(self, params: Mapping[str, str], *, known: Sequence[str]) -> None:
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise InvalidField(unknown[0], f"Unknown parameter '{unknown[0]}'.")
        self._params = params

    def text(self, name: str, *, max_len: int = 200) -> str | None:
        value = self._params.get(name)
        return None if value is None else _text(value, name, min_len=1, max_len=max_len)

    def moment(self, name: str) -> datetime | None:
        value = self._params.get(name)
        return None if value is None else parse_moment(value, name)

    def id(self, name: str) -> int | None:
        value = self._params.get(name)
        return None if value is None else parse_id(value, name)

    def integer(self, name: str, *, low: int, high: int, default: int) -> int:
        value = self._params.get(name)
        if value is None:
            return default
        if not _digits(value) or not low <= int(value) <= high:
            raise InvalidField(name, f"'{name}' must be an integer from {low} to {high}.")
        return int(value)

    def choice(self, name: str, options: Sequence[str]) -> str | None:
        value = self._params.get(name)
        if value is not None and value not in options:
            raise InvalidField(name, f"'{name}' must be one of: {', '.join(options)}.")
        return value


def _digits(raw: str) -> bool:
    # Bounded length first: int() of thousands of digits is slow, then refused.
    return 0 < len(raw) <= 19 and raw.isascii() and raw.isdigit()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
