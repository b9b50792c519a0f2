"""A 9,000-character answer arrives as several messages, each with its code fences intact."""

from __future__ import annotations

from connectors.slack.split import open_fence
from tests.connectors.slack.conftest import HarnessFactory
from tests.connectors.slack.harness import CHANNEL
from tests.fakes.openai_server import reply

PROSE = [f"Paragraph {i}: " + "lorem ipsum dolor sit amet " * 9 for i in range(1, 21)]
CODE = [f"    result_{i} = compute(value_{i}, factor={i})  # step {i}" for i in range(1, 81)]
ANSWER = (
    "\n\n".join(PROSE[:8])
    + "\n\n```python\n"
    + "\n".join(CODE)
    + "\n```\n\n"
    + "\n\n".join(PROSE[8:])
)


def chunks(text: str, size: int = 250) -> tuple[str, ...]:
    return tuple(text[i : i + size] for i in range(0, len(text), size))


def fenced_and_plain(messages: list[str]) -> tuple[list[str], list[str]]:
    """Lines inside fences and outside them, over all messages; each message must close its
    fences itself."""
    code: list[str] = []
    plain: list[str] = []
    for message in messages:
        assert open_fence(message) is None, message[-200:]
        inside = False
        for line in message.split("\n"):
            if line.strip().startswith("```"):
                inside = not inside
            elif line.strip():
                (code if inside else plain).append(line.strip())
    return code, plain


def expected_lines() -> tuple[list[str], list[str]]:
    return [c.strip() for c in CODE], [p.strip() for p in PROSE]


async def test_long_streamed_answer_is_split_with_fences_intact(slack_hub: HarnessFactory) -> None:
    assert len(ANSWER) > 9_000
    async with slack_hub() as h:
        h.llm.script(reply(ANSWER, chunks=chunks(ANSWER)))
        _, root = await h.mention("write a lot")
        await h.connector.drain()  # the answer task was spawned before the ack returned
        messages = [m.text for m in h.slack.thread(CHANNEL, root)[1:]]
        assert len(messages) >= 3
        assert all(len(m) <= 3_500 for m in messages)
        assert fenced_and_plain(messages) == expected_lines()
        # Nothing posted twice: as many stream stops as messages.
        assert len(h.slack.calls_to("chat.stopStream")) == len(messages)


async def test_long_ask_answer_spills_into_the_thread(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        h.llm.script(reply(ANSWER, chunks=chunks(ANSWER, 1_000)))
        await h.command("write a lot")
        await h.slack.wait_for("chat.update", lambda c: "Paragraph 20" in str(c.args.get("blocks")))
        await h.connector.drain()
        bot = h.slack.bot_messages(CHANNEL)
        main, rest = bot[0], bot[1:]
        assert len(rest) >= 3 and all(m.thread_ts == main.ts for m in rest)
        texts = [[b for b in m.blocks if b["type"] == "section"] for m in rest]
        sections = [blocks[-1]["text"]["text"] for blocks in texts]
        first = main.blocks[1]["text"]["text"]
        assert all(len(s) <= 3_000 for s in [first, *sections])
        code, plain = fenced_and_plain([first, *sections])
        assert code == [c.strip() for c in CODE]
        assert len(plain) == len(PROSE)
