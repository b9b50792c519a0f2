"""What settle writes: one usage record per request, and the event that announces it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.ledger.money import micros_to_usd
from hub.model import Caller, Origin, Usage


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

    def row_values(self, now: datetime) -> dict[str, object]:
        return dict(
            request_id=self.request_id,
            team_id=self.caller.team_id,
            key_id=self.caller.key_id,
            member_id=self.caller.member_id,
            connector=self.origin.connector,
            user=self.origin.user,
            channel=self.origin.channel,
            workspace=self.origin.workspace,
            alias=self.alias,
            deployment=self.deployment,
            prompt_tokens=self.usage.prompt_tokens,
            completion_tokens=self.usage.completion_tokens,
            cached_tokens=self.usage.cached_tokens,
            cache_write_tokens=self.usage.cache_write_tokens,
            reasoning_tokens=self.usage.reasoning_tokens,
            cost_micros=self.cost_micros,
            estimated=self.estimated,
            latency_ms=self.latency_ms,
            ttft_ms=self.ttft_ms,
            status=self.status,
            error_code=self.error_code,
            created_at=now,
            saved_micros=self.saved_micros,
            counterfactual_micros=self.counterfactual_micros,
            requested_alias=self.requested_alias,
            routed_by=self.routed_by,
            experiment_id=self.experiment_id,
            variant=self.variant,
            prompt_hash=self.prompt_hash,
            first_deployment=self.first_deployment,
        )

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
