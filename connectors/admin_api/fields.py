"""The admin API's field types: each checks a JSON value and describes itself in the OpenAPI
document, so bodies (bodies.py) are validated and documented by the same definitions.

Bounds are checked here, before any value reaches the database: an id or a figure that does
not fit a 64-bit column, or a NUL that PostgreSQL refuses, is a 400 and never a 500.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import WithJsonSchema

from hub.body_models import Rule, array, integer, one_of, refuse, text
from hub.events.outbox import EVENT_TYPES
from hub.ledger.money import usd_to_micros
from hub.members import LINKABLE, PLATFORMS
from hub.roles import ROLES

MAX_ID = 2**63 - 1
MAX_PER_MINUTE = 2**31 - 1  # rate limits live in 32-bit columns
MAX_TOKENS = 10**15
MAX_USD = Decimal(1_000_000_000)
SCOPES = ("team", "member", "key")
WINDOWS = ("day", "month")
POLICIES = ("open", "members_only")


def moment(value: Any) -> datetime:
    """An ISO 8601 date or time; one without a zone is taken as UTC."""
    if not isinstance(value, str):
        raise refuse("moment", "must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise refuse("moment", "must be an ISO 8601 date-time string") from None


def _usd(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise refuse("usd", "must be an amount in US dollars")
    amount = Decimal(str(value))  # the decimal the client wrote, not the float's binary value
    if not 0 <= amount <= MAX_USD:
        raise refuse("usd", f"must be from 0 to {MAX_USD} US dollars")
    return amount


def _http_url(value: Any) -> Any:
    """An http(s) URL with a host; malformed ones (such as a broken IPv6 literal) are a 400."""
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        valid = False
    if not valid:
        raise refuse("url", "must be an http(s) URL")
    return value


def micros(amount: Decimal | None) -> int | None:
    """Dollars as the ledger's integer micro-dollars, exactly."""
    return None if amount is None else usd_to_micros(amount)


Id = Annotated[int, integer(1, MAX_ID)]
Tokens = Annotated[int, integer(0, MAX_TOKENS)]
PerMinute = Annotated[int, integer(1, MAX_PER_MINUTE)]
Text = Annotated[str, text(1, 200)]
Name = Annotated[str, text(1, 100)]
Moment = Annotated[datetime, Rule(moment)]
Usd = Annotated[
    Decimal,
    Rule(_usd),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": int(MAX_USD)}),
]
Role = Annotated[str, one_of(ROLES)]
Platform = Annotated[str, one_of(PLATFORMS)]
Linkable = Annotated[str, one_of(LINKABLE)]
Scope = Annotated[str, one_of(SCOPES)]
Window = Annotated[str, one_of(WINDOWS)]
Policy = Annotated[str, one_of(POLICIES)]
EventType = Annotated[str, one_of(EVENT_TYPES)]
# The last rule runs first: a string of the right length, then a URL.
HttpUrl = Annotated[str, Rule(_http_url, {"pattern": "^https?://"}), text(1, 2000)]
Networks = Annotated[list[Annotated[str, text(0, 100)]], array(max_items=100)]
