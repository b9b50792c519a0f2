"""The conversation a mention continues: its reply chain or thread, images, within budget.

Earlier messages come from the reply chain (`message.reference`, fetched when Discord did
not include them) or, in a thread, from the thread's history. The oldest turns are dropped
first until the estimate fits the model's context budget; the question itself always stays.
"""

from __future__ import annotations

import logging
import re

from connectors.discord.discord_lib import discord
from hub.ledger.estimate import context_tokens
from hub.model import ContentPart, ImagePart, Message, Role, TextPart

log = logging.getLogger("connectors.discord.context")

MAX_EARLIER = 25
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 10 * 1024 * 1024


async def earlier_messages(message: discord.Message) -> list[discord.Message]:
    """Oldest first, not including `message`."""
    if message.reference is not None and message.reference.message_id is not None:
        return await _reply_chain(message)
    if isinstance(message.channel, discord.Thread):
        found = [m async for m in message.channel.history(limit=MAX_EARLIER, before=message)]
        return list(reversed(found))
    return []


async def _reply_chain(message: discord.Message) -> list[discord.Message]:
    chain: list[discord.Message] = []
    current = message
    while len(chain) < MAX_EARLIER:
        ref = current.reference
        if ref is None or ref.message_id is None:
            break
        previous = ref.resolved if isinstance(ref.resolved, discord.Message) else None
        if previous is None:
            try:
                previous = await current.channel.fetch_message(ref.message_id)
            except discord.HTTPException:
                break  # deleted or not visible: the chain ends here
        chain.append(previous)
        current = previous
    chain.reverse()
    return chain


async def conversation(
    message: discord.Message,
    *,
    bot_id: int,
    budget_tokens: int,
) -> tuple[Message, ...]:
    history = [*await earlier_messages(message), message]
    turns: list[tuple[Role, list[ContentPart]]] = []
    images_left = MAX_IMAGES
    # Newest first, so the images that count are the most recent ones.
    for item in reversed(history):
        role: Role = "assistant" if item.author.id == bot_id else "user"
        text = strip_mention(item.content, bot_id)
        if role == "user" and item.author.id != message.author.id:
            text = f"{item.author.display_name}: {text}"
        parts: list[ContentPart] = [TextPart(text)]
        if role == "user" and images_left > 0:
            images = await _images(item, images_left)
            images_left -= len(images)
            parts.extend(images)
        if turns and turns[0][0] == role:
            # Consecutive turns of one role (an answer split over pages) read as one.
            turns[0][1][:0] = [*parts[:1], TextPart("\n"), *parts[1:]]
        else:
            turns.insert(0, (role, parts))
    messages = [Message(role=role, content=_merge_text(parts)) for role, parts in turns]
    return trim_to_budget(messages, budget_tokens)


def strip_mention(content: str, bot_id: int) -> str:
    return re.sub(rf"<@!?{bot_id}>", "", content).strip()


def _merge_text(parts: list[ContentPart]) -> tuple[ContentPart, ...]:
    texts = "".join(p.text for p in parts if isinstance(p, TextPart))
    return (TextPart(texts), *(p for p in parts if isinstance(p, ImagePart)))


def trim_to_budget(messages: list[Message], budget_tokens: int) -> tuple[Message, ...]:
    while len(messages) > 1 and context_tokens(messages) > budget_tokens:
        messages.pop(0)
    while len(messages) > 1 and messages[0].role == "assistant":
        messages.pop(0)  # providers expect the conversation to open with the user
    return tuple(messages)


async def _images(message: discord.Message, limit: int) -> list[ImagePart]:
    images: list[ImagePart] = []
    for attachment in message.attachments:
        kind = attachment.content_type or ""
        if len(images) >= limit or not kind.startswith("image/"):
            continue
        if attachment.size > MAX_IMAGE_BYTES:
            log.info("skipping an image attachment of %d bytes", attachment.size)
            continue
        try:
            data = await attachment.read()
        except discord.HTTPException:
            log.warning("could not download an image attachment", exc_info=True)
            continue
        images.append(ImagePart(media_type=kind.split(";")[0], data=data))
    return images
