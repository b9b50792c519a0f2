"""The decision functions of each strategy, without any I/O."""

from __future__ import annotations

import random
from collections import Counter

from hub.clock import FakeClock
from hub.config import DeploymentSettings, ModelSettings
from hub.model import Caller, ChatRequest, Message, Origin
from hub.routing.health import HealthBoard
from hub.routing.sticky import stable_fraction, sticky_identifier
from hub.routing.strategies import OrderInputs, cost_order, latency_order, order, weighted_order


def deployment(model: str, *, weight: float = 1.0, price: float = 1.0) -> DeploymentSettings:
    micros = int(price * 1_000_000)
    return DeploymentSettings(
        provider="up",
        model=model,
        input_micros_per_mtok=micros,
        output_micros_per_mtok=micros,
        weight=weight,
    )


HEAVY, LIGHT = deployment("heavy", weight=3), deployment("light", weight=1)


def request(*, user: str | None = None, thread: str | None = None) -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=7, team_name="acme", key_id=3),
        origin=Origin(connector="slack", user=user, channel="C1", thread=thread, workspace="T1"),
        messages=(Message.text("user", "hi"),),
    )


def test_weighted_3_to_1_splits_1000_unsticky_requests_within_70_to_80_percent() -> None:
    rng = random.Random(18)
    firsts = Counter(
        weighted_order([HEAVY, LIGHT], salt="alias", sticky_id=None, rng=rng)[0].model
        for _ in range(1_000)
    )
    assert 700 <= firsts["heavy"] <= 800
    assert 200 <= firsts["light"] <= 300
    assert firsts["heavy"] + firsts["light"] == 1_000


def test_weighted_falls_back_through_every_deployment() -> None:
    ordered = weighted_order([HEAVY, LIGHT], salt="a", sticky_id=None, rng=random.Random(1))
    assert sorted(d.model for d in ordered) == ["heavy", "light"]


def test_sticky_user_always_lands_on_the_same_deployment_and_users_split_by_weight() -> None:
    rng = random.Random(0)
    placed: dict[str, set[str]] = {}
    for n in range(400):
        for _ in range(3):
            sticky = sticky_identifier(request(user=f"U{n}"), "user")
            first = weighted_order([HEAVY, LIGHT], salt="alias", sticky_id=sticky, rng=rng)[0]
            placed.setdefault(f"U{n}", set()).add(first.model)
    assert all(len(models) == 1 for models in placed.values())
    heavy = sum(1 for models in placed.values() if models == {"heavy"})
    assert 260 <= heavy <= 340  # 3:1 over 400 distinct users


def test_sticky_user_moves_only_when_its_deployment_is_gone() -> None:
    third = deployment("third", weight=1)
    everyone = [HEAVY, LIGHT, third]
    moved = 0
    for n in range(200):
        sticky = sticky_identifier(request(user=f"U{n}"), "user")
        before = weighted_order(everyone, salt="a", sticky_id=sticky, rng=random.Random())[0]
        after = weighted_order([HEAVY, LIGHT], salt="a", sticky_id=sticky, rng=random.Random())[0]
        if before is not third:
            assert after is before  # only third's users move
        else:
            moved += 1
    assert moved > 0


def test_sticky_identifiers() -> None:
    thread = request(user="U1", thread="1700.1")
    assert sticky_identifier(thread, "thread") == "thread:slack:T1:1700.1"
    assert sticky_identifier(request(user="U1"), "thread") == "thread:slack:T1:C1"
    assert sticky_identifier(thread, "user") == "user:slack:T1:U1"
    assert sticky_identifier(thread, "team") == "team:7"
    assert sticky_identifier(thread, "none") is None
    api = ChatRequest(
        caller=Caller(team_id=7, team_name="acme", key_id=3),
        origin=Origin(connector="openai_api"),
        messages=(Message.text("user", "hi"),),
    )
    assert sticky_identifier(api, "user") == "key:3"
    assert stable_fraction("a", "x") == stable_fraction("a", "x") != stable_fraction("a", "y")


def test_latency_prefers_the_lower_peak_ewma_cost_and_counts_in_flight() -> None:
    clock = FakeClock()
    health = HealthBoard(clock, decay_s=10.0)
    fast, slow = deployment("fast"), deployment("slow")
    for label, seconds in ((fast.label, 0.2), (slow.label, 1.0)):
        attempt = health.start(label)
        clock.advance(seconds)
        attempt.first_token()
        attempt.succeeded()
    rng = random.Random(3)
    assert latency_order([slow, fast], health=health, rng=rng)[0] is fast
    # Six requests in flight on `fast`: 0.2 s x 7 > 1.0 s x 1, so the next goes to `slow`.
    busy = [health.start(fast.label) for _ in range(6)]
    assert latency_order([slow, fast], health=health, rng=rng)[0] is slow
    for attempt in busy:
        attempt.abandoned()
    assert latency_order([slow, fast], health=health, rng=rng)[0] is fast


def test_cost_picks_the_cheapest_for_the_request() -> None:
    pricey, cheap = deployment("pricey", price=5.0), deployment("cheap", price=0.5)
    assert cost_order([pricey, cheap], input_tokens=1000, max_tokens=None) == [cheap, pricey]


def test_priority_keeps_the_configured_order() -> None:
    model = ModelSettings(alias="a", deployments=(LIGHT, HEAVY))
    inputs = OrderInputs(sticky_id=None, input_tokens=10, max_tokens=None)
    chosen = order(
        model, [LIGHT, HEAVY], inputs, health=HealthBoard(FakeClock()), rng=random.Random()
    )
    assert chosen == [LIGHT, HEAVY]
