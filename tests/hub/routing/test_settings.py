"""The routing and cache keys: parsed into the settings, and refused naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from hub.config import ConfigError, parse_settings
from hub.routing.settings import CacheCharge

PRICE = {"input_usd_per_mtok": 1.0, "output_usd_per_mtok": 2.0}


def settings(models: dict[str, Any], **sections: Any) -> Any:
    return parse_settings({"providers": {"p": {"type": "demo"}}, "models": models, **sections}, {})


def alias(**keys: Any) -> dict[str, Any]:
    deployments = keys.pop("deployments", [{"provider": "p", "model": "m", **PRICE}])
    return {"deployments": deployments, **keys}


def test_routing_keys_reach_the_settings() -> None:
    parsed = settings(
        {
            "cheap": alias(),
            "strong": alias(
                strategy="weighted",
                sticky="thread",
                downgrade_at_percent=90,
                downgrade_to="cheap",
                cache_ttl_s=600,
                cache_scope="global",
                show_model=True,
                deployments=[
                    {"provider": "p", "model": "a", "weight": 3, "tools": False, **PRICE},
                    {"provider": "p", "model": "b", "max_input_tokens": 8000, **PRICE},
                ],
            ),
            "auto": {"strategy": "auto", "tiers": {"complex": "strong", "simple": "cheap"}},
        },
        router={"circuit_failures": 3, "circuit_cooldown_s": 10},
        cache={"backend": "redis", "charge": "discount:80"},
        redis={"url": "redis://127.0.0.1:6379/0"},
    )
    strong = parsed.models["strong"]
    assert (strong.strategy, strong.sticky, strong.show_model) == ("weighted", "thread", True)
    assert (strong.downgrade_at_percent, strong.downgrade_to) == (90.0, "cheap")
    assert (strong.cache_ttl_s, strong.cache_scope, strong.cache_sampled) == (600, "global", False)
    a, b = strong.deployments
    assert (a.weight, a.tools, a.json_schema, a.max_input_tokens) == (3.0, False, True, None)
    assert (b.weight, b.max_input_tokens) == (1.0, 8000)
    assert parsed.models["auto"].tiers == (("simple", "cheap"), ("complex", "strong"))
    assert parsed.models["auto"].deployments == ()
    assert (parsed.router.circuit_failures, parsed.router.circuit_cooldown_s) == (3, 10.0)
    assert parsed.router.circuit_cooldown_max_s == 600.0
    assert (parsed.cache.backend, parsed.cache.charge) == ("redis", CacheCharge(20))
    defaults = parsed.models["cheap"]
    assert (defaults.strategy, defaults.sticky, defaults.cache_ttl_s) == ("priority", "none", 0)


@pytest.mark.parametrize(
    ("models", "sections", "message"),
    [
        ({"a": alias(strategy="random")}, {}, "models.a.strategy must be 'priority', 'weighted'"),
        (
            {"a": alias(sticky="session")},
            {},
            "models.a.sticky must be 'user', 'thread', 'team' or 'none'",
        ),
        (
            {"a": alias(deployments=[{"provider": "p", "model": "m", "weight": -1, **PRICE}])},
            {},
            "models.a.deployments[0].weight must be greater than or equal to 0",
        ),
        (
            {"a": alias(deployments=[{"provider": "p", "model": "m", "tools": "maybe", **PRICE}])},
            {},
            "models.a.deployments[0].tools must be a valid boolean",
        ),
        ({"a": {"strategy": "auto"}}, {}, 'models.a: strategy = "auto" needs tiers'),
        (
            {"a": {"strategy": "auto", "tiers": {"easy": "b"}}, "b": alias()},
            {},
            "models.a.tiers: unknown tier(s) easy",
        ),
        ({"a": {"strategy": "auto", "tiers": {"simple": "x"}}}, {}, "models.a.tiers.simple"),
        ({"a": alias(downgrade_to="a", downgrade_at_percent=90)}, {}, "cannot name the alias"),
        ({"a": alias(downgrade_at_percent=90)}, {}, "downgrade_at_percent and downgrade_to"),
        (
            {"a": alias(cache_scope="everyone")},
            {},
            "models.a.cache_scope must be 'team' or 'global'",
        ),
        (
            {"a": alias()},
            {"cache": {"charge": "half"}},
            'cache.charge: cache.charge must be "none"',
        ),
        ({"a": alias()}, {"cache": {"size": 3}}, "cache.size is not a setting"),
        ({"a": alias()}, {"cache": {"backend": "redis"}}, 'cache.backend = "redis" needs'),
        (
            {"a": alias()},
            {"router": {"circuit_failures": 0}},
            "router.circuit_failures must be greater than or equal to 1",
        ),
    ],
)
def test_bad_routing_keys_are_refused_by_name(
    models: dict[str, Any], sections: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        settings(models, **sections)
    assert message in str(refused.value)


def test_cache_charges_round_up_like_every_cost() -> None:
    assert CacheCharge.parse("none").of(1_001) == 0
    assert CacheCharge.parse("full").of(1_001) == 1_001
    assert CacheCharge.parse("discount:80").of(1_001) == 201  # 200.2 rounded up
    assert CacheCharge.parse("discount:100").of(1_001) == 0
