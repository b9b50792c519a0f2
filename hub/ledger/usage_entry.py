"""What settle writes: one usage record per request, and the event that announces it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.ledger.money import micros_to_usd
from hub.model import Caller, Origin, Usage

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
        """The record's values in `RECORD_COLUMNS` order (the SQLite writer binds these)."""
        usage, caller, origin = self.usage, self.caller, self.origin
        return (
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
        )

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
