"""DMs and the AI-app surface: suggested prompts, a thinking status, a title, threaded answers."""

from __future__ import annotations

from tests.connectors.slack.conftest import HarnessFactory
from tests.connectors.slack.harness import USER
from tests.fakes.openai_server import reply

DM = "D1"


async def test_assistant_thread_started_offers_prompts(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        root = h.slack.next_ts()
        event = {
            "type": "assistant_thread_started",
            "assistant_thread": {
                "user_id": USER,
                "context": {"channel_id": "C1", "team_id": "T1", "enterprise_id": None},
                "channel_id": DM,
                "thread_ts": root,
            },
            "event_ts": root,
        }
        assert (await h.event(event, event_id="EvStart")).status_code == 200
        assert (await h.event(event, event_id="EvStart", retry_num=1)).status_code == 200
        prompts = await h.slack.wait_for("assistant.threads.setSuggestedPrompts")
        await h.connector.drain()
        assert prompts.args["channel_id"] == DM and prompts.args["thread_ts"] == root
        assert [p["title"] for p in prompts.args["prompts"]] == [
            "Summarize",
            "Explain code",
            "Draft a reply",
        ]
        greetings = h.slack.calls_to("chat.postMessage")
        assert len(greetings) == 1 and greetings[0].args["thread_ts"] == root


async def test_assistant_message_sets_status_title_and_streams(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        root = h.slack.add_message(DM, "Hi! Ask me anything.", user="UBOT")
        h.slack.messages[root].bot_id = "BBOT"
        ts = h.slack.add_message(DM, "Plan a picnic", thread_ts=root)
        h.llm.script(reply("Bring sandwiches."))
        event = {
            "type": "message",
            "channel": DM,
            "channel_type": "im",
            "user": USER,
            "text": "Plan a picnic",
            "ts": ts,
            "thread_ts": root,
            "event_ts": ts,
        }
        assert (await h.event(event)).status_code == 200
        stop = await h.slack.wait_for("chat.stopStream")
        await h.connector.drain()
        status = h.slack.calls_to("assistant.threads.setStatus")
        assert [(c.args["channel_id"], c.args["thread_ts"], c.args["status"]) for c in status] == [
            (DM, root, "is thinking...")
        ]
        title = h.slack.calls_to("assistant.threads.setTitle")
        assert [c.args["title"] for c in title] == ["Plan a picnic"]
        assert h.slack.messages[str(stop.args["ts"])].text == "Bring sandwiches."
        assert h.slack.messages[str(stop.args["ts"])].thread_ts == root
        assert h.llm.requests[-1].json["messages"] == [
            {"role": "user", "content": "Plan a picnic"}
        ]  # the greeting is not sent as context


async def test_plain_dm_is_answered_in_a_thread(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        ts = h.slack.add_message(DM, "quick question")
        h.llm.script(reply("Quick answer."))
        event = {
            "type": "message",
            "channel": DM,
            "channel_type": "im",
            "user": USER,
            "text": "quick question",
            "ts": ts,
            "event_ts": ts,
        }
        await h.event(event)
        stop = await h.slack.wait_for("chat.stopStream")
        await h.connector.drain()
        answer = h.slack.messages[str(stop.args["ts"])]
        assert (answer.thread_ts, answer.text) == (ts, "Quick answer.")
