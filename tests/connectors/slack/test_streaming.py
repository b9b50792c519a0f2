"""Answers are built live, at most one edit a second per message, and Stop cancels upstream."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from hub.store.ledger_tables import UsageRecord
from tests.connectors.slack.conftest import HarnessFactory
from tests.connectors.slack.harness import CHANNEL, SlackHarness, stop_value
from tests.fakes.openai_server import reply, slow
from tests.fakes.slack_api import SlackCall

WORDS = " ".join(f"word{i}" for i in range(1, 13))


def assert_paced(calls: list[SlackCall]) -> None:
    times = [c.at for c in calls]
    assert all(t is not None for t in times)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]  # type: ignore[operator]
    assert all(gap >= 1.0 for gap in gaps), gaps


async def usage_statuses(h: SlackHarness) -> list[str]:
    async with h.running.hub.sessions() as session:
        return [r.status for r in await session.scalars(select(UsageRecord))]


async def test_thread_answer_streams_in_several_paced_appends(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        h.llm.script(slow(WORDS, delay=0.02))
        _, root = await h.mention("count to twelve")
        stop = await h.slack.wait_for("chat.stopStream")
        await h.connector.drain()
        ts = str(stop.args["ts"])
        calls = [
            c
            for c in h.slack.calls_to("chat.startStream", "chat.appendStream", "chat.stopStream")
            if c.method == "chat.startStream" or c.args.get("ts") == ts
        ]
        assert len(calls) >= 4  # start, at least two appends, stop
        assert_paced(calls)
        assert "".join(c.text for c in calls) == WORDS
        assert h.slack.messages[ts].text == WORDS


async def test_ask_placeholder_is_updated_at_most_once_a_second(
    slack_hub: HarnessFactory,
) -> None:
    async with slack_hub() as h:
        h.llm.script(slow(WORDS, delay=0.02))
        await h.command("count to twelve")
        await h.slack.wait_for("chat.update", lambda c: "word12" in str(c.args["blocks"]))
        await h.connector.drain()
        main = h.slack.calls_to("chat.postMessage")[0]
        edits = [
            c
            for c in h.slack.calls_to("chat.update")
            if c.args["ts"] == main.args.get("ts")
            or c.args["ts"] == h.slack.bot_messages(CHANNEL)[0].ts
        ]
        assert len(edits) >= 3
        assert_paced([main, *edits])
        assert edits[-1].args["blocks"][1]["text"]["text"] == WORDS
        assert "stop_answer" not in str(edits[-1].args["blocks"])  # no Stop button once done


async def test_stop_on_ask_cancels_the_upstream_request(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        h.llm.script(reply("one two three four five", gate_after=2))
        await h.command("tell me a long story")
        await asyncio.wait_for(h.llm.at_gate.wait(), 5)
        await h.slack.wait_for("chat.update", lambda c: "one two" in str(c.args["blocks"]))
        value = stop_value(h.slack.calls_to("chat.postMessage")[0].args["blocks"])
        assert value is not None
        refused = await h.press_stop(value, user="U2")
        assert refused.status_code == 200
        told = await h.slack.wait_for("response_url")
        assert told.args["text"] == "Only the person who asked can stop this answer."
        pressed = await h.press_stop(value)
        assert pressed.status_code == 200
        final = await h.slack.wait_for("chat.update", lambda c: "Stopped" in str(c.args))
        await asyncio.wait_for(h.llm.disconnected.wait(), 5)  # the upstream call was cut
        await h.connector.drain()
        assert final.args["blocks"][1]["text"]["text"] == "one two\n\n_Stopped._"
        assert await usage_statuses(h) == ["cancelled"]


async def test_stop_on_a_streamed_thread_answer(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        h.llm.script(reply("alpha beta gamma delta", gate_after=2))
        _, root = await h.mention("go")
        await asyncio.wait_for(h.llm.at_gate.wait(), 5)
        control = await h.slack.wait_for("chat.postMessage")
        await h.slack.wait_for("chat.startStream")
        value = stop_value(control.args["blocks"])
        assert value is not None
        await h.press_stop(value)
        stop = await h.slack.wait_for("chat.stopStream")
        await h.connector.drain()
        assert control.args["thread_ts"] == root
        assert h.slack.messages[str(stop.args["ts"])].text == "alpha beta \n\n_Stopped._"
        assert await usage_statuses(h) == ["cancelled"]
        # The control message (with the Stop button) is removed: only the answer remains.
        assert len(h.slack.calls_to("chat.delete")) == 1
        assert [m.text for m in h.slack.thread(CHANNEL, root)][1:] == ["alpha beta \n\n_Stopped._"]


async def test_stream_ended_by_slack_continues_without_losing_text(
    slack_hub: HarnessFactory,
) -> None:
    async with slack_hub() as h:
        h.slack.fail("chat.appendStream", "message_not_in_streaming_state", skip=1)
        h.llm.script(slow(WORDS, delay=0.02))
        _, root = await h.mention("count")
        await h.slack.wait_for("chat.update", lambda c: "word12" in str(c.args["blocks"]))
        await h.connector.drain()
        shown = [m.text for m in h.slack.thread(CHANNEL, root)[1:]]
        assert len(shown) == 2  # the stream Slack ended, then an edited message with the rest
        assert "".join(shown).replace(" ", "") == WORDS.replace(" ", "")
        assert await usage_statuses(h) == ["ok"]
