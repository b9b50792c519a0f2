"""Variants, splits and sticky assignment, as `hub experiment create` takes them."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import pytest

from hub.errors import BadRequest
from hub.experiments.plan import Experiment, Variant, parse_variants
from hub.model import Caller, ChatRequest, Message, Origin
from tests.support.hubs import settings_from

MODELS = settings_from(
    {
        "providers": {"demo": {"type": "demo"}},
        "models": {
            alias: {
                "deployments": [
                    {
                        "provider": "demo",
                        "model": f"{alias}-1",
                        "input_usd_per_mtok": 1,
                        "output_usd_per_mtok": 1,
                    }
                ]
            }
            for alias in ("chat", "mini")
        },
    },  # fmt: skip
    database_url="sqlite://",
).models


def test_variants_name_aliases_or_deployments_with_a_split() -> None:
    assert parse_variants(["a=mini", "b=demo/chat-1"], "70/30", MODELS) == (
        Variant("a", "mini", 70),
        Variant("b", "demo/chat-1", 30),
    )
    assert [v.share for v in parse_variants(["a=mini", "b=chat", "c=mini"], None, MODELS)] == [
        34, 33, 33,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("specs", "split", "says"),
    [
        (["a=mini"], None, "at least two variants"),
        (["a=mini", "b=gpt-9"], None, "'gpt-9' is neither a configured alias nor"),
        (["a=mini", "a=chat"], None, "Two variants are named 'a'"),
        (["a=mini", "bchat"], None, "'bchat' is not a variant"),
        (["a=mini", "b=chat"], "60/60", "must add up to 100"),
        (["a=mini", "b=chat"], "50/30/20", "must give 2 whole percentages"),
    ],
)
def test_mistakes_are_refused_by_name(specs: list[str], split: str | None, says: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_variants(specs, split, MODELS)
    assert says in refused.value.user_message


def request(user: str | None, thread: str | None = None) -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=1, team_name="acme"),
        origin=Origin(connector="slack", workspace="T1", channel="C1", user=user, thread=thread),
        messages=(Message.text("user", "hi"),),
    )


def experiment(sticky: str, split: tuple[int, int] = (50, 50)) -> Experiment:
    return Experiment(
        id=1, name="tone", alias="chat",
        variants=(Variant("a", "mini", split[0]), Variant("b", "chat", split[1])),
        sticky=sticky, status="running",  # type: ignore[arg-type]
        created_at=datetime(2026, 1, 1, tzinfo=UTC), started_at=None, stopped_at=None,
    )  # fmt: skip


def test_sticky_thread_keeps_a_thread_on_one_variant_and_shares_follow_the_split() -> None:
    rng = random.Random(1)
    by_thread = experiment("thread")
    for n in range(20):
        chosen = {by_thread.choose(request(f"U{u}", thread=f"t{n}"), rng).name for u in range(5)}
        assert len(chosen) == 1  # everyone in the thread sees the same variant
    skewed = experiment("user", (80, 20))
    counts = Counter(skewed.choose(request(f"U{n}"), rng).name for n in range(1000))
    assert 750 <= counts["a"] <= 850
    unsticky = Counter(experiment("none").choose(request("U1"), rng).name for _ in range(400))
    assert 150 <= unsticky["a"] <= 250  # nothing to keep together: each request drawn anew
