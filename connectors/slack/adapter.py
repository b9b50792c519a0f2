"""Slack traffic in the hub's terms: what was asked, by whom, where to answer, what it costs to.

Every surface (slash command, mention, thread follow-up, DM, AI-app thread) becomes one
`Question`; `request_for` turns it into the hub's `ChatRequest`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from connectors.slack.markdown import escape
from hub.model import Caller, ChatRequest, Message, Origin

Surface = Literal["command", "mention", "thread", "dm", "assistant"]
# A user mention in slash-command text (the command must escape mentions): <@U123> or <@U123|ann>
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>\s*(.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Question:
    surface: Surface
    workspace: str
    user: str
    channel: str
    text: str
    external_id: str
    model: str | None = None  # an explicit alias (`--model`)
    reply_thread: str | None = None  # thread to answer in; None: a new channel message
    history_thread: str | None = None  # thread whose earlier messages are context
    message_ts: str | None = None  # the question's own message (left out of the history)
    needs_bot_in_thread: bool = False  # follow-ups are answered only where the bot took part
    files: tuple[Mapping[str, Any], ...] = field(default=())
    response_url: str | None = None


@dataclass(frozen=True, slots=True)
class AskCommand:
    kind: Literal["ask", "usage", "model", "quota", "help"]
    question: str = ""
    model: str | None = None
    target: str | None = None  # `quota`: the Slack user id mentioned; None if not a mention
    limit: str = ""  # `quota`: the limit as written (5usd/month)


def parse_ask(text: str) -> AskCommand:
    """`/ask [--model ALIAS] question`, `/ask usage`, `/ask model [ALIAS]`,
    `/ask quota @user LIMIT`."""
    text = text.strip()
    if not text:
        return AskCommand("help")
    word, _, rest = text.partition(" ")
    if word.lower() == "usage" and not rest.strip():
        return AskCommand("usage")
    if word.lower() == "model" and len(rest.split()) <= 1:
        return AskCommand("model", model=rest.strip() or None)
    if word.lower() == "quota" and rest.lstrip().startswith(("<@", "@")):
        mention = _USER_MENTION.match(rest.strip())
        if mention is None:  # a plain "@ann": Slack did not escape it into a user id
            return AskCommand("quota")
        return AskCommand("quota", target=mention[1], limit=mention[2].strip())
    model = None
    if word in ("--model", "-m"):
        pieces = rest.split(maxsplit=1)
        model = pieces[0] if pieces else ""
        text = pieces[1] if len(pieces) > 1 else ""
    elif word.startswith("--model="):
        model, text = word.split("=", 1)[1], rest
    if model == "":
        return AskCommand("help")
    text = text.strip()
    if not text:
        return AskCommand("help")
    return AskCommand("ask", question=text, model=model)


def quote_question(user: str, question: str, alias: str) -> str:
    """The /ask header: who asked what (as a quote), so the channel sees both."""
    quoted = "\n".join(f">{escape(line)}" for line in question.splitlines() or [""])
    return f"<@{user}> asked _{escape(alias)}_:\n{quoted}"


def origin_for(question: Question) -> Origin:
    return Origin(
        connector="slack",
        user=question.user,
        channel=question.channel,
        thread=question.reply_thread,
        workspace=question.workspace,
        external_id=question.external_id,
        conversation=question.reply_thread,
    )


def request_for(
    question: Question, *, caller: Caller, messages: Sequence[Message], alias: str
) -> ChatRequest:
    return ChatRequest(
        caller=caller,
        origin=origin_for(question),
        messages=tuple(messages),
        model=alias,
        metadata={"slack_surface": question.surface},
    )
