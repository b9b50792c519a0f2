"""Answering a message that mentions the bot (or replies to it, or is a DM), as the bot.

The answer is a reply to the question: the typing indicator shows until the first token,
then the reply is edited at most once a second. The whole exchange runs in its own task on
discord.py's loop and only awaits, so heartbeats keep flowing under a slow provider.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from connectors.discord.billing import PLATFORM, Place, alias_for, caller_for
from connectors.discord.config import DiscordConfig
from connectors.discord.context import conversation
from connectors.discord.discord_lib import discord
from connectors.discord.errors import user_sentence
from connectors.discord.live import LiveAnswer
from connectors.discord.pages import PagedMessages
from hub.errors import HubError
from hub.model import ChatRequest
from hub.service import Hub

log = logging.getLogger("connectors.discord.mentions")
NO_MENTIONS = discord.AllowedMentions.none()


class ReplySink:
    """Page 0 replies to the question; each further page replies to the page before."""

    def __init__(self, question: discord.Message) -> None:
        self._question = question
        self._last = question

    async def create(self, index: int, body: dict[str, Any]) -> discord.Message:
        sent = await self._question.channel.send(
            body["content"],
            reference=self._last.to_reference(fail_if_not_exists=False),
            mention_author=False,
            allowed_mentions=NO_MENTIONS,
        )
        self._last = sent
        return sent

    async def edit(self, index: int, handle: discord.Message, body: dict[str, Any]) -> None:
        await handle.edit(content=body["content"], allowed_mentions=NO_MENTIONS)


class MentionHandler:
    def __init__(self, hub: Hub, config: DiscordConfig) -> None:
        self._hub = hub
        self._config = config

    async def handle(self, message: discord.Message, *, bot_id: int) -> None:
        if message.author.bot or not _addressed(message, bot_id):
            return
        # Gateway replays after a resume must not answer twice.
        if not await self._hub.deliveries.claim(PLATFORM, f"message:{message.id}"):
            return
        place = place_of(message)
        try:
            request = await self._request(message, place, bot_id)
            stream = self._hub.chat(request)
        except HubError as exc:
            await self._say(message, user_sentence(exc))
            return
        live = LiveAnswer(PagedMessages(ReplySink(message)), self._hub.clock)
        try:
            async with stream:
                chunks = aiter(stream)
                async with _typing(message.channel):
                    first = await anext(chunks, None)
                if first is not None:
                    live.add(first.text)
                async for chunk in chunks:
                    live.add(chunk.text)
        except HubError as exc:
            sentence = user_sentence(exc)
            if live.text:
                await live.finish(f"\n\n*{sentence}*")
            else:
                await live.close()
                await self._say(message, sentence)
            return
        except BaseException:
            await live.close()
            raise
        await live.finish()

    async def _request(self, message: discord.Message, place: Place, bot_id: int) -> ChatRequest:
        caller = await caller_for(self._hub, self._config, place)
        alias = await alias_for(self._hub, self._config, place, None)
        model = self._hub.settings.models[alias]
        budget = model.context_tokens - model.reply_room_tokens
        return ChatRequest(
            caller=caller,
            origin=place.origin(user_id=str(message.author.id), external_id=str(message.id)),
            messages=await conversation(message, bot_id=bot_id, budget_tokens=budget),
            model=alias,
        )

    async def _say(self, message: discord.Message, sentence: str) -> None:
        try:
            await message.channel.send(
                sentence,
                reference=message.to_reference(fail_if_not_exists=False),
                mention_author=False,
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException:
            log.warning("could not tell the user about an error", exc_info=True)


@contextlib.asynccontextmanager
async def _typing(channel: discord.abc.Messageable) -> AsyncIterator[None]:
    """The typing indicator, best effort: lacking the permission must not lose the answer."""
    indicator = channel.typing()
    try:
        await indicator.__aenter__()
    except discord.HTTPException:
        log.info("could not show the typing indicator", exc_info=True)
        yield
        return
    try:
        yield
    finally:
        await indicator.__aexit__(None, None, None)


def _addressed(message: discord.Message, bot_id: int) -> bool:
    if _guild_id(message) is None:
        return True  # a DM is always for the bot
    if any(user.id == bot_id for user in message.mentions):
        return True
    resolved = message.reference.resolved if message.reference else None
    return isinstance(resolved, discord.Message) and resolved.author.id == bot_id


def _guild_id(message: discord.Message) -> int | None:
    if message.guild is not None:
        return message.guild.id
    return getattr(message.channel, "guild_id", None)  # a channel discord.py has not cached


def place_of(message: discord.Message) -> Place:
    guild_id = _guild_id(message)
    guild = str(guild_id) if guild_id is not None else None
    channel = message.channel
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return Place(guild, str(channel.parent_id), str(channel.id))
    return Place(guild, str(channel.id))
