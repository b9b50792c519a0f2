"""Slack's retries and duplicate deliveries are answered once, and never loop on the bot."""

from __future__ import annotations

from sqlalchemy import select

from hub.store.ledger_tables import UsageRecord
from tests.connectors.slack.conftest import HarnessFactory
from tests.connectors.slack.harness import BOT_USER, CHANNEL
from tests.fakes.openai_server import reply


async def test_three_deliveries_give_one_answer_and_one_usage_record(
    slack_hub: HarnessFactory,
) -> None:
    async with slack_hub() as h:
        h.llm.script(reply("Once."))
        ts = h.slack.add_message(CHANNEL, f"<@{BOT_USER}> hello")
        event = {
            "type": "app_mention",
            "user": "U1",
            "text": f"<@{BOT_USER}> hello",
            "ts": ts,
            "channel": CHANNEL,
            "event_ts": ts,
        }
        first = await h.event(event, event_id="EvSAME")
        retry = await h.event(event, event_id="EvSAME", retry_num=1)
        duplicate = await h.event(event, event_id="EvSAME", retry_num=2)
        assert [r.status_code for r in (first, retry, duplicate)] == [200, 200, 200]
        await h.slack.wait_for("chat.stopStream")
        await h.connector.drain()
        assert len(h.llm.requests) == 1
        assert len(h.slack.calls_to("chat.startStream")) == 1
        assert len(h.slack.calls_to("chat.stopStream")) == 1
        async with h.running.hub.sessions() as session:
            rows = list(await session.scalars(select(UsageRecord)))
        assert [(r.status, r.user, r.workspace) for r in rows] == [("ok", "U1", "T1")]


async def test_own_messages_and_edits_are_ignored(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        root = h.slack.add_message(CHANNEL, f"<@{BOT_USER}> hi")
        echoes = [
            {
                "type": "message",
                "channel": CHANNEL,
                "user": BOT_USER,
                "bot_id": "BBOT",
                "text": "my own answer",
                "ts": "1700000099.000001",
                "thread_ts": root,
            },
            {
                "type": "message",
                "subtype": "message_changed",
                "channel": CHANNEL,
                "hidden": True,
                "ts": "1700000099.000002",
                "message": {"type": "message", "user": "U1", "text": "edited", "ts": root},
            },
            {
                "type": "message",
                "subtype": "bot_message",
                "channel": CHANNEL,
                "bot_id": "BOTHER",
                "text": "another bot",
                "ts": "1700000099.000003",
                "thread_ts": root,
            },
            {
                "type": "message",
                "channel": CHANNEL,
                "user": "U1",
                "text": "no thread",
                "ts": "1700000099.000004",
            },
        ]
        for event in echoes:
            assert (await h.event(event)).status_code == 200
        await h.connector.drain()
        assert h.llm.requests == []
        assert h.slack.calls_to("chat.postMessage", "chat.startStream") == []
