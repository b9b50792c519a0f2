"""👍/👎 under Slack answers (Block Kit feedback_buttons), pressed as Slack sends the press:
signed block_actions through the fake Slack Web API; the vote lands next to the usage record."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select

from hub.store.ledger_tables import UsageRecord
from hub.store.routing_tables import Feedback
from tests.connectors.slack.conftest import HarnessFactory
from tests.connectors.slack.harness import TEAM, USER, SlackHarness
from tests.fakes.openai_server import reply


def feedback_element(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    (element,) = [
        e
        for b in blocks
        if b["type"] == "context_actions"
        for e in b["elements"]
        if e["type"] == "feedback_buttons"
    ]
    return element


async def press(
    h: SlackHarness, value: str, *, user: str = USER, team: str = TEAM, secret: str | None = None
) -> httpx.Response:
    action = {"type": "feedback_buttons", "action_id": "answer_feedback", "block_id": "feedback"}
    return await h.press(
        action | {"value": value}, user=user, team=team, path="feedback", secret=secret
    )


async def votes(h: SlackHarness) -> list[tuple[int, int, str, str]]:
    async with h.running.hub.sessions() as session:
        rows = await session.scalars(select(Feedback).order_by(Feedback.id))
        return [(r.usage_id, r.rating, r.source, r.voter) for r in rows]


async def test_a_thread_answer_ends_with_feedback_buttons_that_vote(
    slack_hub: HarnessFactory,
) -> None:
    async with slack_hub() as h:
        h.llm.script(reply("forty-two"))
        await h.mention("what is the answer")
        stop = await h.slack.wait_for("chat.stopStream")
        await h.connector.drain()
        async with h.running.hub.sessions() as session:
            (usage,) = list(await session.scalars(select(UsageRecord)))
        buttons = feedback_element(h.slack.messages[str(stop.args["ts"])].blocks)
        up, down = buttons["positive_button"]["value"], buttons["negative_button"]["value"]
        assert (up, down) == (f"up:{usage.request_id}", f"down:{usage.request_id}")
        assert buttons["positive_button"]["text"]["text"] == "👍"

        assert (await press(h, up)).status_code == 200
        assert await votes(h) == [(usage.id, 1, "slack", USER)]
        assert (await press(h, down)).status_code == 200  # a second press replaces the vote
        assert (await press(h, up, user="U2")).status_code == 200
        assert await votes(h) == [(usage.id, -1, "slack", USER), (usage.id, 1, "slack", "U2")]


async def test_an_ask_answer_carries_the_buttons_and_foreign_or_forged_presses_vote_nothing(
    slack_hub: HarnessFactory,
) -> None:
    async with slack_hub() as h:
        h.llm.script(reply("hello there"))
        await h.command("say hello")
        final = await h.slack.wait_for("chat.update", lambda c: "context_actions" in str(c.args))
        await h.connector.drain()
        up = feedback_element(final.args["blocks"])["positive_button"]["value"]

        forged = await press(h, up, secret="not-the-signing-secret")
        assert forged.status_code == 401
        assert (await press(h, up, team="T2")).status_code == 200  # another workspace
        told = await h.slack.wait_for("response_url")
        assert str(told.args["text"]).startswith("No answer with id ")
        assert await votes(h) == []
        assert (await press(h, up)).status_code == 200
        assert [v[1:] for v in await votes(h)] == [(1, "slack", USER)]


async def test_failed_answers_carry_no_buttons(slack_hub: HarnessFactory) -> None:
    async with slack_hub(monthly_budget_micros=1) as h:
        h.llm.script(reply("never sent"))
        await h.mention("hi")
        told = await h.slack.wait_for("chat.postMessage", lambda c: "budget" in str(c.args))
        await h.connector.drain()
        assert "context_actions" not in json.dumps([c.args for c in h.slack.calls])
        assert told.args["thread_ts"]
