"""The routing and cache keys of the configuration, parsed and checked in one place.

`hub/config.py` owns the shapes (`DeploymentSettings`, `ModelSettings`, `RouterSettings`,
`Settings.cache`); this module reads the keys issue #18 adds from a table and says which key
is wrong when one is:

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
from typing import Any, Literal, get_args

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

    def of(self, cost_micros: int) -> int:
        """The charge for a hit whose answer cost `cost_micros`, rounded up like every cost."""
        return -(-cost_micros * self.percent_charged // 100)


@dataclass(frozen=True, slots=True)
class CacheSettings:
    backend: CacheBackend = "memory"
    charge: CacheCharge = CacheCharge()
    max_entries: int = 10_000  # the memory backend's bound; Redis keeps what its TTLs allow


def _choice(raw: Mapping[str, Any], key: str, where: str, allowed: tuple[str, ...]) -> Any:
    value = raw.get(key, allowed[0])
    if value not in allowed:
        options = ", ".join(f'"{a}"' for a in allowed)
        raise RoutingConfigError(f"{where}.{key} must be one of {options}, not {value!r}")
    return value


def _number(
    raw: Mapping[str, Any],
    key: str,
    where: str,
    *,
    default: float | None,
    low: float,
    high: float,
    whole: bool = False,
) -> Any:
    value: Any = raw.get(key, default)
    if value is None:
        return None
    wrong_kind = not isinstance(value, int | float) or (whole and not isinstance(value, int))
    if isinstance(value, bool) or wrong_kind or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        raise RoutingConfigError(f"{where}.{key} must be {kind} from {low:g} to {high:g}")
    return int(value) if whole else float(value)


def _flag(raw: Mapping[str, Any], key: str, where: str, default: bool | None) -> Any:
    value = raw.get(key, default)
    if value is not None and not isinstance(value, bool):
        raise RoutingConfigError(f"{where}.{key} must be true or false")
    return value


def deployment_fields(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """`weight`, `vision`, `tools`, `json_schema`, `max_input_tokens` of one deployment."""
    return {
        "weight": _number(raw, "weight", where, default=1.0, low=0.0, high=1e6),
        "vision": _flag(raw, "vision", where, None),
        "tools": _flag(raw, "tools", where, True),
        "json_schema": _flag(raw, "json_schema", where, True),
        "max_input_tokens": _number(
            raw, "max_input_tokens", where, default=None, low=1, high=1e9, whole=True
        ),
    }


def model_fields(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The strategy, stickiness, tiers, downgrade and cache keys of one alias."""
    tiers = raw.get("tiers", {})
    if not isinstance(tiers, Mapping) or not all(isinstance(v, str) for v in tiers.values()):
        raise RoutingConfigError(f'{where}.tiers must be a table of tier = "alias"')
    unknown = sorted(set(tiers) - set(TIERS))
    if unknown:
        raise RoutingConfigError(
            f"{where}.tiers: unknown tier(s) {', '.join(unknown)}; tiers are {', '.join(TIERS)}"
        )
    strategy = _choice(raw, "strategy", where, get_args(Strategy))
    if strategy == "auto" and not tiers:
        raise RoutingConfigError(f'{where}: strategy = "auto" needs tiers = {{ simple = "..." }}')
    downgrade_at = _number(raw, "downgrade_at_percent", where, default=None, low=1, high=100)
    downgrade_to = raw.get("downgrade_to")
    if (downgrade_at is None) != (downgrade_to is None):
        raise RoutingConfigError(f"{where}: downgrade_at_percent and downgrade_to go together")
    classifier = raw.get("classifier")
    for key, value in (("downgrade_to", downgrade_to), ("classifier", classifier)):
        if value is not None and not (isinstance(value, str) and value):
            raise RoutingConfigError(f"{where}.{key} must be an alias name")
    return {
        "strategy": strategy,
        "sticky": _choice(raw, "sticky", where, ("none", "user", "thread", "team")),
        "tiers": tuple((tier, tiers[tier]) for tier in TIERS if tier in tiers),
        "classifier": classifier,
        "downgrade_at_percent": downgrade_at,
        "downgrade_to": downgrade_to,
        "cache_ttl_s": _number(raw, "cache_ttl_s", where, default=0, low=0, high=1e8, whole=True),
        "cache_scope": _choice(raw, "cache_scope", where, get_args(CacheScope)),
        "cache_sampled": _flag(raw, "cache_sampled", where, False),
        "show_model": _flag(raw, "show_model", where, False),
    }


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


def router_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    where = "router"
    return {
        "circuit_failures": _number(
            raw, "circuit_failures", where, default=5, low=1, high=1000, whole=True
        ),
        "circuit_cooldown_s": _number(
            raw, "circuit_cooldown_s", where, default=30.0, low=0.1, high=86400
        ),
        "circuit_cooldown_max_s": _number(
            raw, "circuit_cooldown_max_s", where, default=600.0, low=0.1, high=86400
        ),
        "circuit_error_rate": _number(
            raw, "circuit_error_rate", where, default=0.5, low=0.01, high=1.0
        ),
        "circuit_window_s": _number(raw, "circuit_window_s", where, default=60.0, low=1, high=3600),
        "circuit_min_requests": _number(
            raw, "circuit_min_requests", where, default=20, low=1, high=100000, whole=True
        ),
        "latency_decay_s": _number(raw, "latency_decay_s", where, default=10.0, low=0.1, high=3600),
    }


def cache_settings(raw: Mapping[str, Any]) -> CacheSettings:
    known = {"backend", "charge", "max_entries"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise RoutingConfigError(f"cache: unknown option(s) {', '.join(unknown)}")
    charge = raw.get("charge", "none")
    if not isinstance(charge, str):
        raise RoutingConfigError('cache.charge must be "none", "full" or "discount:<percent>"')
    return CacheSettings(
        backend=_choice(raw, "backend", "cache", get_args(CacheBackend)),
        charge=CacheCharge.parse(charge),
        max_entries=_number(
            raw, "max_entries", "cache", default=10_000, low=1, high=1e8, whole=True
        ),
    )
