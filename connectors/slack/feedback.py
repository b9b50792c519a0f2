"""👍/👎 under Slack answers: Block Kit `feedback_buttons` in a `context_actions` block, and
the press written through `hub.feedback` next to the answer's usage record.

Each button's value is `up:<response id>` or `down:<response id>`, so any web process that
Slack delivers the press to can record it; the voter is the Slack user, in the workspace the
press came from (a press from another workspace finds no answer).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from hub.errors import HubError
from hub.feedback import DOWN, UP, Voter
from hub.service import Hub

log = logging.getLogger("connectors.slack.feedback")
FEEDBACK_ACTION = "answer_feedback"
_RATINGS = {"up": UP, "down": DOWN}


def feedback_block(response_id: str) -> dict[str, Any]:
    def button(emoji: str, label: str, value: str) -> dict[str, Any]:
        return {
            "text": {"type": "plain_text", "text": emoji},
            "accessibility_label": label,
            "value": f"{value}:{response_id}",
        }

    return {
        "type": "context_actions",
        "block_id": f"feedback:{response_id}"[:255],
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": FEEDBACK_ACTION,
                "positive_button": button("👍", "Mark this answer as good", "up"),
                "negative_button": button("👎", "Mark this answer as bad", "down"),
            }
        ],
    }


def parse_feedback_value(value: str) -> tuple[int, str] | None:
    """(rating, response id), or None for a value the hub did not make."""
    kind, sep, response_id = value.partition(":")
    if not sep or kind not in _RATINGS or not response_id:
        return None
    return _RATINGS[kind], response_id


class FeedbackListener:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def on_feedback(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        parsed = parse_feedback_value(str(action.get("value", "")))
        user = body.get("user") or {}
        workspace = (body.get("team") or {}).get("id") or user.get("team_id")
        if parsed is None or not user.get("id"):
            log.info("a feedback press without a usable value or user")
            return
        rating, response_id = parsed
        voter = Voter(source="slack", id=str(user["id"]), workspace=str(workspace or ""))
        try:
            await self._hub.feedback.vote(response_id, rating, voter=voter)
        except HubError as exc:
            await respond(text=exc.user_message, response_type="ephemeral", replace_original=False)
