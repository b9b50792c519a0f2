"""The gateway bot: the real discord.py client against the fake gateway and REST API."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from connectors.discord.config import DiscordConfig
from connectors.discord.gateway import GatewayBot
from tests.connectors.discord.helpers import (
    CHANNEL,
    GUILD,
    OTHER_USER,
    THREAD,
    USER,
    usage_records,
)
from tests.fakes.discord_gateway import RESUME, FakeDiscordGateway, guild_json
from tests.fakes.discord_rest import BOT_ID, BOT_USER, Call, FakeDiscordRest, user_json
from tests.fakes.openai_server import FakeOpenAI, reply, slow
from tests.support.hubs import RunningHub

TIMEOUT = 10
ALICE = user_json(USER, "alice")
BOB = user_json(OTHER_USER, "bob")


@dataclasses.dataclass
class Bot:
    bot: GatewayBot
    gateway: FakeDiscordGateway
    rest: FakeDiscordRest

    async def say(self, content: str, **options: Any) -> dict[str, Any]:
        """A user's message arriving through the gateway; returns its payload."""
        options.setdefault("channel_id", CHANNEL)
        options.setdefault("guild_id", GUILD)
        options.setdefault("author", ALICE)
        payload = self.rest.user_message(content=content, **options)
        await self.gateway.dispatch("MESSAGE_CREATE", payload)
        return payload

    async def mention(self, content: str, **options: Any) -> dict[str, Any]:
        return await self.say(f"<@{BOT_ID}> {content}", mentions=(BOT_USER,), **options)

    async def reply_to(self, question: dict[str, Any]) -> Call:
        """The bot's reply to `question` (the first message of its answer)."""

        def replies(call: Call) -> bool:
            reference = (call.json or {}).get("message_reference") or {}
            return bool(str(reference.get("message_id")) == question["id"])

        async with asyncio.timeout(TIMEOUT):
            call = await self.rest.wait_for("POST", replies)
            await self.bot.drain()
        return call

    def answer_to(self, question: dict[str, Any]) -> dict[str, Any]:
        """The bot's message (as the fake stores it now) replying to `question`."""
        [found] = [
            m
            for m in self.rest.messages.values()
            if m["author"]["id"] == BOT_ID
            and m.get("message_reference", {}).get("message_id") == question["id"]
        ]
        return found

    def shown(self, channel_id: str = CHANNEL) -> list[str]:
        """What the bot's messages in a channel say now."""
        return [
            m["content"]
            for m in self.rest.messages.values()
            if m["channel_id"] == channel_id and m["author"]["id"] == BOT_ID
        ]


async def start_bot(running: RunningHub, rest: FakeDiscordRest, **changes: Any) -> Bot:
    guild = guild_json(GUILD, channels=[CHANNEL], threads={THREAD: CHANNEL})
    gateway = FakeDiscordGateway(guilds=[guild])
    await gateway.__aenter__()
    rest.gateway_url = gateway.url  # discovered through GET /gateway/bot
    config = running.hub.settings.connectors["discord"]
    assert isinstance(config, DiscordConfig)
    bot = GatewayBot(running.hub, config.model_copy(update=changes))
    try:
        await bot.start()
        async with asyncio.timeout(TIMEOUT):
            await gateway.wait_identified()
    except BaseException:
        await bot.close()
        await gateway.__aexit__()
        raise
    return Bot(bot, gateway, rest)


@pytest_asyncio.fixture
async def bot(running: RunningHub, rest: FakeDiscordRest) -> AsyncIterator[Bot]:
    started = await start_bot(running, rest)
    try:
        yield started
    finally:
        await started.bot.close()
        await started.gateway.__aexit__()


async def test_a_mention_gets_a_streamed_reply(
    bot: Bot, running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(slow("The answer is four, of course", delay=0.02))
    question = await bot.mention("what is 2+2?")
    first = await bot.reply_to(question)
    assert first.json["allowed_mentions"]["parse"] == []
    typing = bot.rest.matching("POST", lambda c: c.path == f"/channels/{CHANNEL}/typing")
    assert typing and bot.rest.calls.index(typing[0]) < bot.rest.calls.index(first)
    edits = bot.rest.matching("PATCH", lambda c: c.path.startswith(f"/channels/{CHANNEL}/"))
    times = [first.at] + [e.at for e in edits]
    assert len(times) >= 3
    assert all(b - a >= 1.0 for a, b in zip(times, times[1:], strict=False))  # type: ignore[operator]
    assert bot.shown() == ["The answer is four, of course"]
    assert fake_openai.last_json["messages"] == [{"role": "user", "content": "what is 2+2?"}]
    [record] = await usage_records(running.hub)
    assert (record.connector, record.user, record.channel, record.workspace) == (
        "discord",
        USER,
        CHANNEL,
        GUILD,
    )
    assert record.team_id == running.team.id


async def test_a_follow_up_in_the_reply_chain_carries_the_first_exchange(
    bot: Bot, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("It is 4."), reply("It is 12."))
    question = await bot.mention("what is 2+2?")
    await bot.reply_to(question)
    follow_up = await bot.say("and times 3?", reply_to=bot.answer_to(question))  # no mention
    await bot.reply_to(follow_up)
    assert fake_openai.last_json["messages"] == [
        {"role": "user", "content": "what is 2+2?"},
        {"role": "assistant", "content": "It is 4."},
        {"role": "user", "content": "and times 3?"},
    ]


async def test_the_same_message_after_a_resume_gets_one_answer(
    bot: Bot, fake_openai: FakeOpenAI
) -> None:
    question = await bot.mention("hello?")
    await bot.reply_to(question)
    await bot.gateway.drop()
    async with asyncio.timeout(TIMEOUT):
        await bot.gateway.resumed.wait()
    resume = [f for f in bot.gateway.received if f["op"] == RESUME][-1]
    assert resume["d"]["session_id"] == bot.gateway.session_id
    await bot.gateway.dispatch("MESSAGE_CREATE", question)  # replayed after the resume
    marker = await bot.mention("a new question")
    await bot.reply_to(marker)
    assert len(fake_openai.requests) == 2
    replies = [c for c in bot.rest.matching("POST") if (c.json or {}).get("message_reference")]
    assert [str(r.json["message_reference"]["message_id"]) for r in replies] == [
        question["id"],
        marker["id"],
    ]


async def test_a_slow_provider_leaves_the_heartbeat_alone(
    bot: Bot, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("slow answer", gate_after=1))
    question = await bot.mention("take your time")
    async with asyncio.timeout(TIMEOUT):
        await fake_openai.at_gate.wait()
        await bot.gateway.heartbeat_roundtrip()
    fake_openai.gate.set()
    await bot.reply_to(question)
    assert bot.shown() == ["slow answer"]


async def test_thread_history_is_context_and_images_become_image_parts(
    bot: Bot, fake_openai: FakeOpenAI
) -> None:
    earlier: dict[str, Any] = {"channel_id": THREAD, "guild_id": GUILD}
    bot.rest.user_message(author=BOB, content="Is this a cat?", **earlier)
    bot.rest.user_message(author=BOT_USER, content="Show me the picture.", **earlier)
    picture = bot.rest.host_file("cat.png", b"\x89PNG fake image", "image/png")
    question = await bot.mention("here it is", attachments=(picture,), **earlier)
    await bot.reply_to(question)
    image = "data:image/png;base64," + base64.b64encode(b"\x89PNG fake image").decode()
    assert fake_openai.last_json["messages"] == [
        {"role": "user", "content": "bob: Is this a cat?"},
        {"role": "assistant", "content": "Show me the picture."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "here it is"},
                {"type": "image_url", "image_url": {"url": image}},
            ],
        },
    ]


async def test_an_unbound_server_and_a_dm_get_a_clear_reply(
    bot: Bot, fake_openai: FakeOpenAI
) -> None:
    unbound = await bot.mention("anyone?", guild_id="1300000000000000077")
    answer = await bot.reply_to(unbound)
    assert "hub bind discord 1300000000000000077 --team NAME" in answer.json["content"]
    dm = await bot.say("hi bot", guild_id=None, channel_id="1300000000000000088")
    answer = await bot.reply_to(dm)
    assert answer.json["content"].startswith("Direct messages are not enabled")
    assert fake_openai.requests == []


async def test_dms_are_answered_for_the_dm_team(
    running: RunningHub, rest: FakeDiscordRest, fake_openai: FakeOpenAI
) -> None:
    started = await start_bot(running, rest, dm_team="acme")
    try:
        fake_openai.script(reply("Hi back."))
        dm = await started.say("hi bot", guild_id=None, channel_id="1300000000000000088")
        await started.reply_to(dm)
        assert started.shown("1300000000000000088") == ["Hi back."]
        [record] = await usage_records(running.hub)
        assert (record.team_id, record.workspace) == (running.team.id, None)
    finally:
        await started.bot.close()
        await started.gateway.__aexit__()
