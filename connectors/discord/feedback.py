"""👍/👎 buttons under Discord answers, and their presses written through `hub.feedback` next
to the answer's usage record.

A button's custom id is `feedback:up:<response id>` or `feedback:down:<response id>`, so any
web process Discord delivers the press to can record it; the voter is the Discord user, in the
guild the press came from (a press from elsewhere finds no answer). The press is answered with
an ephemeral line only the voter sees.
"""

from __future__ import annotations

from typing import Any

from connectors.discord.errors import user_sentence
from connectors.discord.interaction_model import Interaction
from connectors.discord.slash import message
from hub.errors import HubError
from hub.feedback import DOWN, UP, Voter
from hub.service import Hub

FEEDBACK_PREFIX = "feedback:"
_RATINGS = {"up": UP, "down": DOWN}
SECONDARY = 2  # a grey button


def feedback_buttons(response_id: str) -> list[dict[str, Any]]:
    """An action row with 👍 and 👎 (message components; custom ids of at most 100 chars)."""

    def button(emoji: str, kind: str) -> dict[str, Any]:
        custom_id = f"{FEEDBACK_PREFIX}{kind}:{response_id}"[:100]
        return {"type": 2, "style": SECONDARY, "emoji": {"name": emoji}, "custom_id": custom_id}

    return [{"type": 1, "components": [button("👍", "up"), button("👎", "down")]}]


def parse_feedback_id(custom_id: str) -> tuple[int, str] | None:
    """(rating, response id), or None for an id the hub did not make."""
    kind, sep, response_id = custom_id.removeprefix(FEEDBACK_PREFIX).partition(":")
    if not custom_id.startswith(FEEDBACK_PREFIX) or not sep or kind not in _RATINGS:
        return None
    return (_RATINGS[kind], response_id) if response_id else None


async def feedback_reply(hub: Hub, interaction: Interaction) -> dict[str, Any]:
    """Record the press; the interaction response: one ephemeral line for the voter."""
    parsed = parse_feedback_id(interaction.custom_id)
    if parsed is None:
        return message("That button is no longer in use.", ephemeral=True)
    rating, response_id = parsed
    voter = Voter(source="discord", id=interaction.user_id, workspace=interaction.place.guild_id)
    try:
        vote = await hub.feedback.vote(response_id, rating, voter=voter)
    except HubError as exc:
        return message(user_sentence(exc), ephemeral=True)
    emoji = "👍" if vote.rating > 0 else "👎"
    changed = " (your earlier vote is replaced)" if vote.replaced else ""
    return message(f"Thanks: your {emoji} is noted{changed}.", ephemeral=True)
