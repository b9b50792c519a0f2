"""`/ask`: acked at once, answered in the channel with the question quoted, accounted."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from hub.store.ledger_tables import UsageRecord
from tests.connectors.slack.conftest import HarnessFactory
from tests.connectors.slack.harness import CHANNEL, TEAM, USER
from tests.fakes.openai_server import reply


def final_update(call: object) -> bool:
    blocks = getattr(call, "args", {}).get("blocks") or []
    return not any(b.get("type") == "actions" for b in blocks) and "Paris" in str(blocks)


async def test_ask_acks_while_the_provider_is_still_held(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        # The provider sends nothing until the test opens the gate: a "10 s" model.
        h.llm.script(reply("The capital of France is **Paris**.", stall=True))
        response = await h.command("What is the capital of France?")
        assert response.status_code == 200
        assert response.text == ""
        await asyncio.wait_for(h.llm.at_gate.wait(), 5)
        assert not h.llm.gate.is_set()  # the ack came back while the model was still held
        placeholder = await h.slack.wait_for("chat.postMessage")
        assert placeholder.args["channel"] == CHANNEL
        assert "thread_ts" not in placeholder.args  # a channel message everyone sees
        header = placeholder.args["blocks"][0]["text"]["text"]
        assert header == f"<@{USER}> asked _default_:\n>What is the capital of France?"
        h.llm.gate.set()
        final = await h.slack.wait_for("chat.update", final_update)
        assert final.args["blocks"][1]["text"]["text"] == "The capital of France is *Paris*."
        await h.connector.drain()
        async with h.running.hub.sessions() as session:
            rows = list(await session.scalars(select(UsageRecord)))
        assert [
            (r.team_id, r.connector, r.user, r.channel, r.workspace, r.status) for r in rows
        ] == [(h.running.team.id, "slack", USER, CHANNEL, TEAM, "ok")]
        # 10 prompt tokens at $1/M and 6 completion tokens at $2/M, rounded up to a micro-dollar.
        assert rows[0].cost_micros == 10 + 12
        by_user = await h.running.hub.usage.grouped("user", team_id=h.running.team.id)
        assert [(key, totals.requests) for key, totals in by_user] == [(f"slack:{USER}", 1)]


async def test_ask_with_model_flag_uses_that_alias(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        h.llm.script(reply("Seen."))
        await h.command("--model vision describe a cat")
        await h.slack.wait_for("chat.update", lambda c: "Seen." in str(c.args.get("blocks")))
        assert h.llm.requests[-1].json["model"] == "gpt-4o"
        assert h.llm.requests[-1].json["messages"][-1]["content"] == "describe a cat"


async def test_channel_default_model_is_shown_set_and_used(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        shown = await h.command("model")
        assert "not set (using *default*)" in shown.json()["text"]
        refused = await h.command("model vision")
        assert refused.json()["text"].startswith(
            "Only admins of team 'acme' can change a channel's default model."
        )
        admin = await h.running.hub.members.add(h.running.team, "alice", role="admin")
        await h.running.hub.members.link(admin, platform="slack", workspace=TEAM, user=USER)
        unknown = await h.command("model nope")
        assert unknown.json()["text"] == "Unknown model 'nope'. Available models: default, vision."
        done = await h.command("model vision")
        assert done.json() == {
            "response_type": "ephemeral",
            "text": "This channel's default model is now *vision*.",
        }
        h.llm.script(reply("ok"))
        await h.command("hello")
        await h.slack.wait_for("chat.update", lambda c: "ok" in str(c.args.get("blocks")))
        assert h.llm.requests[-1].json["model"] == "gpt-4o"
        [entry] = [
            e
            for e in await h.running.hub.audit.entries(team_id=h.running.team.id)
            if e.action == "channel.default_model"
        ]
        assert (entry.actor, entry.target, entry.after) == (
            f"slack:{USER}",
            f"slack:{CHANNEL}",
            {"default_alias": "vision"},
        )


async def test_usage_shows_team_and_own_share(slack_hub: HarnessFactory) -> None:
    async with slack_hub(monthly_budget_micros=5_000_000) as h:
        h.llm.script(reply("one two three", prompt_tokens=1000, completion_tokens=500))
        await h.command("count")
        await h.slack.wait_for("chat.update", lambda c: "three" in str(c.args.get("blocks")))
        await h.connector.drain()
        for response in (await h.command("usage"), await h.command("", command="/usage")):
            assert response.json()["response_type"] == "ephemeral"
            assert response.json()["text"] == (
                "*Usage this month* (resets 2026-12-01 00:00 UTC)\n"
                "Team *acme*: $0.002 of $5.00 budget, 1,500 tokens\n"
                "You: $0.002, 1,500 tokens\n"
                "Plan *none*: invoice estimate so far $0.00 (the draft for 2026-11)"
            )


async def test_unbound_workspace_is_told_to_ask_an_admin(slack_hub: HarnessFactory) -> None:
    async with slack_hub(bind=False) as h:
        await h.command("hello?")
        told = await h.slack.wait_for("response_url")
        assert told.args == {
            "text": "This Slack workspace is not connected to a hub team yet; ask an admin to "
            "bind it: `hub bind slack T1 --team NAME`.",
            "response_type": "ephemeral",
        }
        await h.connector.drain()
        assert h.llm.requests == []


async def test_empty_ask_explains_usage(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        response = await h.command("   ")
        assert response.json()["text"].startswith("Ask a question: `/ask [--model ALIAS]")
