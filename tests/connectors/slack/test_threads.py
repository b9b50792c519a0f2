"""Mentions are answered in a thread; follow-ups there carry the thread as context."""

from __future__ import annotations

from tests.connectors.slack.conftest import HarnessFactory, hub_config
from tests.connectors.slack.harness import BOT_USER, CHANNEL, USER
from tests.fakes.openai_server import reply


async def follow_up(h, text: str, thread_ts: str) -> str:  # type: ignore[no-untyped-def]
    ts = h.slack.add_message(CHANNEL, text, thread_ts=thread_ts)
    event = {
        "type": "message",
        "channel": CHANNEL,
        "channel_type": "channel",
        "user": USER,
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        "event_ts": ts,
    }
    assert (await h.event(event)).status_code == 200
    return ts


async def test_mention_then_follow_up_carries_the_thread(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        h.llm.script(reply("Blue whales are the largest animals."), reply("About 30 metres."))
        response, root = await h.mention("What is the largest animal?")
        assert response.status_code == 200
        stop = await h.slack.wait_for("chat.stopStream")
        await h.connector.drain()
        start = h.slack.calls_to("chat.startStream")[0]
        assert start.args["thread_ts"] == root
        assert start.args["recipient_user_id"] == USER
        assert start.args["recipient_team_id"] == "T1"
        answer = h.slack.messages[str(stop.args["ts"])]
        assert answer.text == "Blue whales are the largest animals."
        assert answer.thread_ts == root
        # The control message with the Stop button is gone once the answer is complete.
        assert [m.text for m in h.slack.thread(CHANNEL, root)] == [
            f"<@{BOT_USER}> What is the largest animal?",
            "Blue whales are the largest animals.",
        ]

        await follow_up(h, "How long is it?", root)
        await h.slack.wait_for("chat.stopStream", lambda c: c is not stop)
        await h.connector.drain()
        assert h.llm.requests[-1].json["messages"] == [
            {"role": "user", "content": "What is the largest animal?"},
            {"role": "assistant", "content": "Blue whales are the largest animals."},
            {"role": "user", "content": "How long is it?"},
        ]
        assert h.slack.thread(CHANNEL, root)[-1].text == "About 30 metres."


async def test_threads_without_the_bot_are_left_alone(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        root = h.slack.add_message(CHANNEL, "people talking")
        await follow_up(h, "a reply between people", root)
        await h.connector.drain()
        assert h.llm.requests == []
        assert h.slack.calls_to("chat.postMessage", "chat.startStream") == []


async def test_long_thread_is_trimmed_oldest_first_with_a_note(
    slack_hub: HarnessFactory,
    fake_openai,
    fake_slack,  # type: ignore[no-untyped-def]
) -> None:
    config = hub_config(fake_openai, fake_slack)
    config["models"]["default"]["context_tokens"] = 1_300  # 1,024 reserved for the answer
    config["ledger"] = {"default_max_tokens": 1024}
    async with slack_hub(config=config) as h:
        root = h.slack.add_message(CHANNEL, f"<@{BOT_USER}> first " + "old " * 200)
        for i in range(3):
            h.slack.add_message(CHANNEL, f"answer {i} " + "x" * 150, user=BOT_USER, thread_ts=root)
            h.slack.messages[list(h.slack.messages)[-1]].bot_id = "BBOT"
            h.slack.add_message(CHANNEL, f"question {i + 1}", thread_ts=root)
        h.llm.script(reply("Short answer."))
        await follow_up(h, "latest question", root)
        await h.slack.wait_for("chat.stopStream")
        await h.connector.drain()
        sent = h.llm.requests[-1].json["messages"]
        assert sent[-1] == {"role": "user", "content": "latest question"}
        assert sent[0]["role"] == "user"
        assert all("old old" not in m["content"] for m in sent)  # the oldest went first
        assert {"role": "user", "content": "question 3"} in sent
        answer = h.slack.thread(CHANNEL, root)[-1].text
        assert answer == (
            "Short answer.\n\n"
            "_Older messages in this thread were left out to fit the model's context._"
        )
