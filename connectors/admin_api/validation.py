"""Reading path and query parameters (bodies are models: bodies.py); every refusal names
the field, with the bounds and rules of fields.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic_core import PydanticCustomError

from connectors.admin_api.fields import MAX_ID, moment
from hub.body_models import storable
from hub.errors import HubError, InvalidField

__all__ = ["Conflict", "InvalidField", "Query", "parse_id", "parse_moment", "storable"]


class Conflict(HubError):
    status = 409
    code = "conflict"


def parse_id(raw: str, field: str) -> int:
    if not _digits(raw) or not 1 <= int(raw) <= MAX_ID:
        raise InvalidField(field, f"'{field}' must be a positive integer id.")
    return int(raw)


def parse_moment(raw: Any, field: str) -> datetime:
    """An ISO 8601 date or time; one without a zone is taken as UTC."""
    try:
        return moment(raw)
    except PydanticCustomError as exc:
        raise InvalidField(field, f"'{field}' {exc.message()}.") from None


def _text(value: str, field: str, *, max_len: int) -> str:
    if not storable(value):
        raise InvalidField(field, f"'{field}' must be a string of valid Unicode text.")
    if not 1 <= len(value) <= max_len:
        raise InvalidField(field, f"'{field}' must be 1 to {max_len} characters long.")
    return value


class Query:
    """Query-string parameters, by name."""

    def __init__(self, params: Mapping[str, str], *, known: Sequence[str]) -> None:
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise InvalidField(unknown[0], f"Unknown parameter '{unknown[0]}'.")
        self._params = params

    def text(self, name: str, *, max_len: int = 200) -> str | None:
        value = self._params.get(name)
        return None if value is None else _text(value, name, max_len=max_len)

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
