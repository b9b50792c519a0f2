"""A Slack thread as conversation context: who said what, trimmed oldest-first to fit the
model's context window, with the bot's own notes left out."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from connectors.slack.messages import STOPPED, THINKING, TRIMMED
from hub.ledger.estimate import context_tokens as context_size
from hub.model import Message

_NOTES = (TRIMMED, STOPPED, THINKING)
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
HISTORY_LIMIT = 200


_ENTITY = re.compile(r"<([@#!]?)([^>|]+)(?:\|([^>]*))?>")


def _readable_entity(match: re.Match[str]) -> str:
    sigil, target, label = match.group(1), match.group(2), match.group(3)
    if sigil == "@":
        return f"@{label or target}"
    if sigil == "#":
        return f"#{label or target}"
    if sigil == "!":  # <!here>, <!channel>, <!subteam^S123|@team>
        return label or f"@{target}"
    return f"{label} ({target})" if label and label != target else target


def readable(text: str) -> str:
    """Slack's escaped message text as a person reads it: `<@U1|ann>` is `@ann`, links show
    their label and address, and `&lt;` `&gt;` `&amp;` are the characters again. The model
    gets what the user saw, not Slack's wire format."""
    text = _ENTITY.sub(_readable_entity, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def clean_text(text: str, *, bot_user_id: str | None) -> str:
    """The message without the bot's mention and the bot's own notes, made readable."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", "", text)
    for note in _NOTES:
        text = text.replace(note, "")
    return readable(text).strip()


def mentions(text: str, user_id: str | None) -> bool:
    return bool(user_id) and any(m == user_id for m in _MENTION.findall(text))


def _from_bot(message: Mapping[str, Any], bot_user_id: str | None, bot_id: str | None) -> bool:
    if bot_id and message.get("bot_id") == bot_id:
        return True
    return bool(bot_user_id) and message.get("user") == bot_user_id


@dataclass(frozen=True, slots=True)
class Thread:
    history: tuple[Message, ...]  # before the current message, oldest first
    bot_participates: bool
    earlier_user_messages: int


async def read_thread(
    client: AsyncWebClient,
    *,
    channel: str,
    thread_ts: str,
    before_ts: str,
    bot_user_id: str | None,
    bot_id: str | None,
) -> Thread:
    response = await client.conversations_replies(
        channel=channel, ts=thread_ts, limit=HISTORY_LIMIT
    )
    history: list[Message] = []
    participates = False
    users = 0
    for item in response.get("messages") or []:
        if float(item.get("ts", "0")) >= float(before_ts):
            continue
        from_bot = _from_bot(item, bot_user_id, bot_id)
        participates = participates or from_bot
        text = clean_text(str(item.get("text", "")), bot_user_id=bot_user_id)
        if not text:
            continue
        if from_bot:
            history.append(Message.text("assistant", text))
        else:
            users += 1
            history.append(Message.text("user", text))
    return Thread(tuple(history), participates, users)


def fit_context(
    history: Sequence[Message], current: Message, *, context_tokens: int, reserve_tokens: int
) -> tuple[tuple[Message, ...], bool]:
    """History plus the current message, oldest dropped first until the estimate fits."""
    budget = max(context_tokens - reserve_tokens, 0)
    kept = list(history)
    trimmed = False
    while kept and context_size([*kept, current]) > budget:
        kept.pop(0)
        trimmed = True
    # Some providers refuse a conversation that opens with the assistant (a greeting).
    while kept and kept[0].role == "assistant":
        kept.pop(0)
    return (*kept, current), trimmed
