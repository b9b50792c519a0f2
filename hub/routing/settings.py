"""The routing and cache vocabulary of the configuration, and the checks across aliases.

The settings models (hub/config: models.py, router.py, cache.py) type these keys; this module
holds their value types, the cache charge, and the check that tiers, downgrades and
classifiers name aliases without loops:

    [models.<alias>]  strategy, sticky, tiers, classifier, downgrade_at_percent, downgrade_to,
                      cache_ttl_s, cache_scope, cache_sampled, show_model
    deployments       weight, vision, tools, json_schema, max_input_tokens
    [router]          circuit_failures, circuit_cooldown_s, circuit_cooldown_max_s,
                      circuit_error_rate, circuit_window_s, circuit_min_requests, latency_decay_s
    [cache]           backend, charge, max_entries
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Strategy = Literal["priority", "weighted", "latency", "cost", "auto"]
Sticky = Literal["user", "thread", "team", "none"]
CacheScope = Literal["team", "global"]
CacheBackend = Literal["memory", "redis"]
# The complexity router's tiers, weakest first (hub/routing/complexity.py says how it picks).
TIERS = ("simple", "medium", "complex", "reasoning")
_DISCOUNT = re.compile(r"^discount:(\d{1,3})$")


class RoutingConfigError(ValueError):
    """A routing or cache key has a value the hub cannot use; the message names the key."""


@dataclass(frozen=True, slots=True)
class CacheCharge:
    """What a cache hit takes from the team's budget, as a share of the answer's cost.

    `none`: nothing; `full`: what the provider call cost; `discount:<percent>`: that cost less
    the percentage (`discount:80` charges a fifth)."""

    percent_charged: int = 0

    @classmethod
    def parse(cls, value: str) -> CacheCharge:
        if value == "none":
            return cls(0)
        if value == "full":
            return cls(100)
        match = _DISCOUNT.match(value)
        if match and 0 <= int(match.group(1)) <= 100:
            return cls(100 - int(match.group(1)))
        raise RoutingConfigError(
            f'cache.charge must be "none", "full" or "discount:<percent>" (0 to 100), not {value!r}'
        )

    def __str__(self) -> str:
        if self.percent_charged == 0:
            return "none"
        if self.percent_charged == 100:
            return "full"
        return f"discount:{100 - self.percent_charged}"

    def of(self, cost_micros: int) -> int:
        """The charge for a hit whose answer cost `cost_micros`, rounded up like every cost."""
        return -(-cost_micros * self.percent_charged // 100)


def check_references(models: Mapping[str, Any]) -> None:
    """Tiers, downgrades and classifiers name configured aliases, and never loop."""
    for alias, model in models.items():
        where = f"models.{alias}"
        named = [(f"tiers.{t}", a) for t, a in model.tiers]
        named += [("downgrade_to", model.downgrade_to), ("classifier", model.classifier)]
        for key, target in named:
            if target is None:
                continue
            if target not in models:
                raise RoutingConfigError(f"{where}.{key} names no configured alias: {target!r}")
            if target == alias:
                raise RoutingConfigError(f"{where}.{key} cannot name the alias itself")
            if key != "downgrade_to" and models[target].strategy == "auto":
                raise RoutingConfigError(f"{where}.{key} cannot be another auto alias")
