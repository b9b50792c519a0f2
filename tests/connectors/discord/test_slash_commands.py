"""/usage, /model, refusals and errors as ephemeral sentences, Discord 429s, and answers that
outlive their interaction token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.connectors.discord.helpers import (
    CHANNEL,
    GUILD,
    USER,
    Interactions,
    command,
    no_stop_button,
    original,
    usage_records,
    webhook_path,
)
from tests.fakes.discord_rest import BOT_TOKEN, Call, FakeDiscordRest
from tests.fakes.openai_server import FakeOpenAI, error, reply
from tests.support.hubs import RunningHub

TIMEOUT = 10
MANAGE_CHANNELS = 1 << 4


def finished(payload: dict[str, Any]) -> Callable[[Call], bool]:
    is_original = original(payload)
    return lambda call: is_original(call) and no_stop_button(call.json)


def in_channel(call: Call) -> bool:
    return call.path == f"/channels/{CHANNEL}/messages"


def channel_message_finished(call: Call) -> bool:
    return call.path.startswith(f"/channels/{CHANNEL}/messages/") and no_stop_button(call.json)


async def test_usage_shows_the_team_month_and_the_askers_share_ephemerally(
    interactions: Interactions, rest: FakeDiscordRest, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("Hi", prompt_tokens=10, completion_tokens=3))
    asked = command("ask", {"prompt": "Hello"})
    await interactions.post(asked)
    async with asyncio.timeout(TIMEOUT):
        await rest.wait_for("PATCH", finished(asked))
    response = await interactions.post(command("usage"))
    data = response.json()["data"]
    assert response.json()["type"] == 4
    assert data["flags"] == 64
    assert data["content"] == (
        "**acme** this month: $0.000016 spent, 13 tokens.\n"
        "Your share: $0.000016, 13 tokens.\n"
        "Resets 2026-12-01 00:00 UTC.\n"
        "Plan **none**: invoice estimate so far $0.00 (the draft for 2026-11)."
    )


async def test_model_shows_and_sets_the_channel_default(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    shown = await interactions.post(command("model"))
    assert shown.json()["data"]["content"] == "This channel uses **gpt**. Available: gpt, small."
    # Discord's Manage Channels is not enough: the channel's model spends the team's money.
    refused = await interactions.post(
        command("model", {"alias": "small"}, permissions=MANAGE_CHANNELS)
    )
    assert refused.json()["data"]["flags"] == 64
    assert refused.json()["data"]["content"].startswith(
        "Only admins of team 'acme' can change a channel's default model."
    )
    admin = await running.hub.members.add(running.team, "ann", role="admin")
    await running.hub.members.link(admin, platform="discord", workspace=GUILD, user=USER)
    unknown = await interactions.post(command("model", {"alias": "nope"}))
    assert unknown.json()["data"] == {
        "content": "Unknown model 'nope'. Available models: gpt, small.",
        "allowed_mentions": {"parse": [], "replied_user": False},
        "flags": 64,
    }
    changed = await interactions.post(command("model", {"alias": "small"}))
    assert changed.json()["data"]["content"] == "This channel now uses **small** by default."
    [entry] = [
        e
        for e in await running.hub.audit.entries(team_id=running.team.id)
        if e.action == "channel.default_model"
    ]
    assert (entry.actor, entry.target, entry.after) == (
        f"discord:{USER}",
        f"discord:{CHANNEL}",
        {"default_alias": "small"},
    )
    asked = command("ask", {"prompt": "Which model?"})
    await interactions.post(asked)
    async with asyncio.timeout(TIMEOUT):
        await rest.wait_for("PATCH", finished(asked))
    assert fake_openai.last_json["model"] == "gpt-small"


async def test_an_unbound_server_and_a_dm_are_refused_clearly(
    interactions: Interactions, rest: FakeDiscordRest, fake_openai: FakeOpenAI
) -> None:
    unbound = await interactions.post(
        command("ask", {"prompt": "hi"}, guild_id="1300000000000000077")
    )
    assert unbound.json()["type"] == 4
    assert unbound.json()["data"]["flags"] == 64
    assert "`hub bind discord 1300000000000000077 --team NAME`" in unbound.json()["data"]["content"]
    dm = await interactions.post(command("ask", {"prompt": "hi"}, guild_id=None))
    assert dm.json()["data"]["content"].startswith("Direct messages are not enabled")
    assert fake_openai.requests == []
    assert rest.calls == []


async def test_a_quota_error_is_one_ephemeral_sentence(
    running: RunningHub, interactions: Interactions, rest: FakeDiscordRest
) -> None:
    poor = await running.hub.teams.create("poor", monthly_budget_micros=1)
    await running.hub.bindings.bind("discord", "1300000000000000055", poor)
    asked = command("ask", {"prompt": "hi"}, guild_id="1300000000000000055")
    assert (await interactions.post(asked)).json() == {"type": 5}
    async with asyncio.timeout(TIMEOUT):
        sentence = await rest.wait_for("POST", lambda c: c.path == webhook_path(asked))
    deleted = rest.matching("DELETE", original(asked))
    assert deleted and rest.calls.index(deleted[0]) < rest.calls.index(sentence)
    assert sentence.json["flags"] == 64
    assert "monthly budget" in sentence.json["content"]
    assert "resets" in sentence.json["content"]


async def test_a_provider_failure_is_one_ephemeral_sentence(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script(error(500), error(500), error(500))
    asked = command("ask", {"prompt": "hi"})
    await interactions.post(asked)
    async with asyncio.timeout(TIMEOUT):
        sentence = await rest.wait_for("POST", lambda c: c.path == webhook_path(asked))
    assert sentence.json["flags"] == 64
    assert sentence.json["content"] == (
        "The model provider for 'gpt' is unavailable: tried 3 times across 1 deployment. "
        "Please try again in a minute."
    )
    [record] = await usage_records(running.hub)
    assert record.status == "error"


async def test_a_rate_limited_edit_is_retried_after_retry_after(
    running: RunningHub, interactions: Interactions, rest: FakeDiscordRest
) -> None:
    asked = command("ask", {"prompt": "hi"})
    limited = {"message": "You are being rate limited.", "retry_after": 2.5, "global": False}
    rest.fail_next("PATCH", original(asked), status=429, body=limited)
    await interactions.post(asked)
    async with asyncio.timeout(TIMEOUT):
        done = await rest.wait_for("PATCH", finished(asked))
    assert done.json["content"] == "Hello from the fake server."
    assert 2.5 in running.clock.slept  # type: ignore[attr-defined]
    first, second = rest.matching("PATCH", original(asked))[:2]
    assert second.at - first.at >= 2.5  # type: ignore[operator]


async def test_an_unknown_interaction_is_answered_in_the_channel(
    interactions: Interactions, rest: FakeDiscordRest, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("Hello there", gate_after=1))
    asked = command("ask", {"prompt": "hi"})
    gone = {"message": "Unknown interaction", "code": 10062}
    rest.fail_next("PATCH", original(asked), status=404, body=gone)
    await interactions.post(asked)
    async with asyncio.timeout(TIMEOUT):
        posted = await rest.wait_for("POST", in_channel)
        fake_openai.gate.set()
        done = await rest.wait_for("PATCH", channel_message_finished)
    assert posted.headers["authorization"] == f"Bot {BOT_TOKEN}"
    assert posted.json["content"] == "Hello "
    assert done.json["content"] == "Hello there"


async def test_an_answer_outliving_its_token_is_finished_in_the_channel(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script(reply("slow and steady", gate_after=1))
    asked = command("ask", {"prompt": "Take long"})
    await interactions.post(asked)
    async with asyncio.timeout(TIMEOUT):
        await rest.wait_for("PATCH", original(asked))
        await fake_openai.at_gate.wait()
    running.clock.advance(15 * 60)  # type: ignore[attr-defined]
    fake_openai.gate.set()
    async with asyncio.timeout(TIMEOUT):
        posted = await rest.wait_for("POST", in_channel)
        done = await rest.wait_for("PATCH", channel_message_finished)
    original_id = rest.messages[f"original:{asked['token']}"]["id"]
    assert posted.json["message_reference"]["message_id"] == original_id
    assert done.json["content"] == "slow and steady"
    assert len(rest.matching("PATCH", original(asked))) == 1  # the token was not used again
