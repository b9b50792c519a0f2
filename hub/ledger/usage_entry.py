"""What settle writes: one usage record per request, and the event that announces it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.ledger.money import micros_to_usd
from hub.model import Caller, Origin, Usage
from hub.store.ledger_tables import UsageRecord

# The usage record's columns that an entry gives (all of `usage_records` but its id), in the
# order of `UsageEntry.row_tuple`.
RECORD_COLUMNS = (
    "request_id",
    "team_id",
    "key_id",
    "member_id",
    "connector",
    "user",
    "channel",
    "workspace",
    "alias",
    "deployment",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_micros",
    "estimated",
    "latency_ms",
    "ttft_ms",
    "status",
    "error_code",
    "created_at",
    "saved_micros",
    "counterfactual_micros",
    "requested_alias",
    "routed_by",
    "experiment_id",
    "variant",
    "prompt_hash",
    "first_deployment",
)


# (position in `RECORD_COLUMNS`, length) of each text column with a length but the request
# id (the hub's own, and unique: never cut), from the usage table itself.
_TEXT_LENGTHS = tuple(
    (position, length)
    for position, name in enumerate(RECORD_COLUMNS)
    if name != "request_id"
    and isinstance(length := getattr(UsageRecord.__table__.c[name].type, "length", None), int)
)

_LENGTHS = dict(_TEXT_LENGTHS)


def cut_to_columns(row: tuple[object, ...]) -> tuple[object, ...]:
    """`row` with each text longer than its column cut to the column's length.

    A deployment, alias, user or channel can come from outside (a client's model name through
    a pass-through deployment, a platform's ids) at any length. PostgreSQL refuses a value
    past a `VARCHAR(n)` in an INSERT (and in the composite rollup row), which failed the
    settlement and left its hold without a record; SQLite keeps any length. Cut here, the
    record and its rollup rows hold the same text on every path and backend."""
    for position, length in _TEXT_LENGTHS:
        value = row[position]
        if type(value) is str and len(value) > length:
            return tuple(
                value[: _LENGTHS[at]] if at in _LENGTHS and type(value) is str else value
                for at, value in enumerate(row)
            )
    return row


@dataclass(frozen=True, slots=True)
class UsageEntry:
    request_id: str
    caller: Caller
    origin: Origin
    alias: str
    deployment: str | None
    usage: Usage
    cost_micros: int
    latency_ms: int
    ttft_ms: int | None
    status: str
    error_code: str | None = None
    prompt: str = ""
    output: str = ""
    # Smart routing (#18): see the columns of hub/store/ledger_tables.UsageRecord.
    saved_micros: int = 0
    counterfactual_micros: int | None = None
    requested_alias: str | None = None
    routed_by: str | None = None
    experiment_id: int | None = None
    variant: str | None = None
    charged_tokens: int | None = None  # tokens the budget counts, when not all (cache hits)
    estimated: bool = False  # the hub's estimate, not the provider's count (interrupted)
    # What cost suggestions read (hub/suggestions.py): the request's hash (hub/prompt_hash.py,
    # never its text) and the deployment tried first, when the router failed over from it.
    prompt_hash: str | None = None
    first_deployment: str | None = None

    @property
    def tokens_charged(self) -> int:
        if self.charged_tokens is not None:
            return self.charged_tokens
        return self.usage.total_tokens

    def row_tuple(self, now: datetime) -> tuple[object, ...]:
        """The record's values in `RECORD_COLUMNS` order (the SQLite writer binds these),
        texts cut to their columns' lengths (`cut_to_columns`)."""
        usage, caller, origin = self.usage, self.caller, self.origin
        return cut_to_columns((
            self.request_id,
            caller.team_id,
            caller.key_id,
            caller.member_id,
            origin.connector,
            origin.user,
            origin.channel,
            origin.workspace,
            self.alias,
            self.deployment,
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.cached_tokens,
            usage.cache_write_tokens,
            usage.reasoning_tokens,
            self.cost_micros,
            self.estimated,
            self.latency_ms,
            self.ttft_ms,
            self.status,
            self.error_code,
            now,
            self.saved_micros,
            self.counterfactual_micros,
            self.requested_alias,
            self.routed_by,
            self.experiment_id,
            self.variant,
            self.prompt_hash,
            self.first_deployment,
        ))  # fmt: skip

    def row_values(self, now: datetime) -> dict[str, object]:
        """The record as the usage table's columns (`RECORD_COLUMNS`) and their values."""
        return dict(zip(RECORD_COLUMNS, self.row_tuple(now), strict=True))

    def event_data(self) -> dict[str, object]:
        return {
            "id": self.request_id,
            "team": self.caller.team_name,
            "connector": self.origin.connector,
            "user": self.origin.user,
            "model": self.alias,
            "deployment": self.deployment,
            "status": self.status,
            "prompt": self.prompt,
            "output": self.output,
            "usage": {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
                "total_tokens": self.usage.total_tokens,
            },
            "cost_usd": micros_to_usd(self.cost_micros),
            "latency_ms": self.latency_ms,
        }
