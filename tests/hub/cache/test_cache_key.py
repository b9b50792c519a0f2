"""The canonical request behind a cache key: what changes the answer, and only that."""

from __future__ import annotations

import dataclasses

import pytest

from hub.cache.key import cache_key
from hub.model import Caller, ChatOptions, ChatRequest, ImagePart, Message, Origin, TextPart

BASE = ChatRequest(
    caller=Caller(team_id=1, team_name="acme", key_id=4),
    origin=Origin(connector="openai_api", user="u1"),
    messages=(Message.text("system", "Be brief."), Message.text("user", "Name a colour.")),
    model="gpt",
    options=ChatOptions(stream=False, temperature=0.0),
)


def key(request: ChatRequest, scope: str = "team:1") -> str:
    return cache_key(request, alias="gpt", scope=scope)


def test_stream_and_who_asks_do_not_change_the_key() -> None:
    streamed = dataclasses.replace(BASE, options=dataclasses.replace(BASE.options, stream=True))
    other_user = dataclasses.replace(
        BASE, origin=Origin(connector="slack", user="U9"), caller=Caller(2, "acme", key_id=9)
    )
    assert key(streamed) == key(BASE) == key(other_user)
    assert key(dataclasses.replace(BASE, no_cache=True)) == key(BASE)


@pytest.mark.parametrize(
    "options",
    [
        {"temperature": 0.5},
        {"temperature": None},
        {"top_p": 0.9},
        {"max_tokens": 50},
        {"stop": ("\n",)},
    ],
)
def test_every_sampling_parameter_changes_the_key(options: dict[str, object]) -> None:
    changed = dataclasses.replace(BASE, options=dataclasses.replace(BASE.options, **options))
    assert key(changed) != key(BASE)


def test_messages_images_alias_and_scope_change_the_key() -> None:
    reworded = dataclasses.replace(BASE, messages=(Message.text("user", "Name a color."),))
    assert key(reworded) != key(BASE)
    pictured = [
        dataclasses.replace(
            BASE, messages=(Message("user", (TextPart("what?"), ImagePart("image/png", data=d))),)
        )
        for d in (b"one", b"two")
    ]
    assert key(pictured[0]) != key(pictured[1])
    assert cache_key(BASE, alias="other", scope="team:1") != key(BASE)
    assert key(BASE, scope="team:2") != key(BASE) != key(BASE, scope="global")
    temperature_one = dataclasses.replace(BASE, options=ChatOptions(stream=False, temperature=1))
    assert key(temperature_one) == key(
        dataclasses.replace(BASE, options=ChatOptions(stream=False, temperature=1.0))
    )
