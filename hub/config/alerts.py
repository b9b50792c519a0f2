"""`[[alerts]]`: what to watch, when it counts as an incident, how loud, and who hears of it.

[[alerts]]
name = "openai-failing"
kind = "provider_error_rate"     # see KINDS
provider = "openai"              # optional: otherwise each provider on its own
window_s = 300
threshold = 0.25                 # the meaning of `threshold` depends on the kind
min_requests = 10
severity = "critical"            # info | warning | critical
teams = ["ops"]                  # whose notice channel and event subscriptions hear it
targets = ["notice", "events"]   # the team's Slack/Discord channel; alert.* events
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from hub.config.base import Section

Kind = Literal[
    "provider_error_rate",  # threshold: share of failed requests, 0..1, over window_s
    "latency_p95",  # threshold: seconds, the 95th percentile of request latency over window_s
    "deployment_down",  # no threshold: the deployment's health state is "down"
    "budget",  # threshold: percent of a team's budget or token quota used this period
    "connection_lost",  # threshold: seconds the Slack socket / Discord gateway has been down
    "outbox_backlog",  # threshold: events and deliveries waiting
]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
Target = Literal["notice", "events"]
DEFAULT_THRESHOLDS = {
    "provider_error_rate": 0.5,
    "latency_p95": 30.0,
    "deployment_down": 0.0,
    "budget": 90.0,
    "connection_lost": 60.0,
    "outbox_backlog": 1000.0,
}


class AlertRule(Section):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Kind
    severity: Literal["info", "warning", "critical"] = "warning"
    threshold: float | None = Field(default=None, ge=0)
    window_s: int = Field(default=300, ge=30, le=7 * 86400)
    min_requests: int = Field(default=5, ge=1)
    provider: str | None = None
    deployment: str | None = None  # "provider/model", as in the metrics' labels
    platform: Literal["slack", "discord"] | None = None
    team: str | None = None  # budget rules: watch this team only
    teams: tuple[str, ...] = ()
    targets: tuple[Target, ...] = ("notice", "events")

    @model_validator(mode="after")
    def _consistent(self) -> AlertRule:
        if self.kind == "provider_error_rate" and (self.threshold or 0.5) > 1:
            raise ValueError(f"alert '{self.name}': an error rate threshold is between 0 and 1")
        if self.kind != "budget" and not self.teams:
            raise ValueError(
                f"alert '{self.name}': name the team(s) to notify in `teams` "
                "(budget alerts default to the team concerned)"
            )
        if not self.targets:
            raise ValueError(f"alert '{self.name}': targets must name notice and/or events")
        return self

    @property
    def limit(self) -> float:
        return DEFAULT_THRESHOLDS[self.kind] if self.threshold is None else self.threshold


def check_unique(rules: tuple[AlertRule, ...]) -> tuple[AlertRule, ...]:
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise ValueError(f"two [[alerts]] are named '{rule.name}'")
        seen.add(rule.name)
    return rules
