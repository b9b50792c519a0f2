"""Conversation context is trimmed oldest-first to the budget; the question always stays."""

from __future__ import annotations

from connectors.discord.context import strip_mention, trim_to_budget
from hub.ledger.estimate import context_tokens
from hub.model import Message


def test_oldest_turns_go_first_and_the_conversation_opens_with_the_user() -> None:
    turns = [
        Message.text("user", "a" * 300),
        Message.text("assistant", "b" * 300),
        Message.text("user", "c" * 300),
        Message.text("assistant", "d" * 300),
        Message.text("user", "the question"),
    ]
    budget = context_tokens(turns[2:])
    assert trim_to_budget(list(turns), budget) == tuple(turns[2:])
    # One token less drops "c"; the answer "d" cannot open the conversation, so it goes too.
    assert trim_to_budget(list(turns), budget - 1) == (turns[-1],)
    assert trim_to_budget(list(turns), 1) == (turns[-1],)


def test_the_bot_mention_is_removed_from_the_text() -> None:
    assert strip_mention("<@42> hello <@!42>", 42) == "hello"
    assert strip_mention("<@43> hello", 42) == "<@43> hello"
