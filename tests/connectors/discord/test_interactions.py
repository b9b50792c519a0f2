"""The interactions endpoint through the running app: signatures, PING, /ask streamed into the
original response, duplicates, Stop, long answers, and errors as ephemeral sentences."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from nacl.signing import SigningKey

from hub.store.platform_tables import Delivery
from tests.connectors.discord.helpers import (
    CHANNEL,
    GUILD,
    OTHER_USER,
    USER,
    Interactions,
    command,
    contents,
    no_stop_button,
    original,
    stop_press,
    usage_records,
    webhook_path,
)
from tests.fakes.discord_rest import Call, FakeDiscordRest
from tests.fakes.openai_server import FakeOpenAI, reply, slow
from tests.support.hubs import RunningHub

TIMEOUT = 10


def final(payload: dict[str, Any]) -> Callable[[Call], bool]:
    """The last edit of @original: it removes the Stop button."""
    is_original = original(payload)
    return lambda call: is_original(call) and no_stop_button(call.json)


async def test_ping_gets_pong(interactions: Interactions) -> None:
    response = await interactions.post({"id": "1", "type": 1, "application_id": "1"})
    assert response.status_code == 200
    assert response.json() == {"type": 1}


async def test_bad_signatures_get_401_and_change_nothing(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    payload = command("ask", {"prompt": "hi"})
    body = json.dumps(payload).encode()
    good = interactions.headers(body)
    variants = {
        "wrong key": interactions.headers(body, key=SigningKey.generate()),
        "stale": interactions.headers(body, age_s=301),
        "from the future": interactions.headers(body, age_s=-301),
        "unsigned": {"Content-Type": "application/json"},
        "no timestamp": {"X-Signature-Ed25519": good["X-Signature-Ed25519"]},
        "malformed hex": {**good, "X-Signature-Ed25519": "zz" * 64},
        "short signature": {**good, "X-Signature-Ed25519": "ab" * 10},
    }
    for name, headers in variants.items():
        response = await interactions.send(body, headers)
        assert response.status_code == 401, name
    tampered = await interactions.send(body.replace(b"hi", b"yo"), good)
    assert tampered.status_code == 401
    assert fake_openai.requests == []
    assert rest.calls == []
    assert await usage_records(running.hub) == []
    async with running.hub.sessions() as session:
        assert (await session.get(Delivery, 1)) is None


async def test_ask_defers_then_edits_the_original_response(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script(reply("Hello there friend", prompt_tokens=10, completion_tokens=3))
    payload = command("ask", {"prompt": "Say hello"})
    response = await interactions.post(payload)
    assert response.json() == {"type": 5}
    async with asyncio.timeout(TIMEOUT):
        done = await rest.wait_for("PATCH", final(payload))
    assert done.json["content"] == "Hello there friend"
    assert done.json["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert fake_openai.last_json["messages"] == [{"role": "user", "content": "Say hello"}]
    [record] = await usage_records(running.hub)
    assert (record.team_id, record.connector, record.user) == (running.team.id, "discord", USER)
    assert (record.channel, record.workspace, record.status) == (CHANNEL, GUILD, "ok")
    assert (record.prompt_tokens, record.completion_tokens) == (10, 3)
    assert record.cost_micros == 10 * 1 + 3 * 2  # $1 and $2 per million tokens


async def test_slow_stream_edits_at_most_once_a_second(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    text = "one two three four five six seven eight"
    fake_openai.script(slow(text, delay=0.02))
    payload = command("ask", {"prompt": "Count"})
    await interactions.post(payload)
    async with asyncio.timeout(TIMEOUT):
        await rest.wait_for("PATCH", final(payload))
    edits = rest.matching("PATCH", original(payload))
    assert len(edits) >= 3
    times = [edit.at for edit in edits]
    assert all(b - a >= 1.0 for a, b in zip(times, times[1:], strict=False))  # type: ignore[operator]
    shown = contents(edits)
    assert all(text.startswith(s) for s in shown)
    assert shown[-1] == text
    assert [not no_stop_button(e.json) for e in edits] == [True] * (len(edits) - 1) + [False]


async def test_the_same_interaction_twice_gives_one_answer(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    payload = command("ask", {"prompt": "Once"})
    first = await interactions.post(payload)
    again = await interactions.post(payload)
    assert first.json() == again.json() == {"type": 5}
    async with asyncio.timeout(TIMEOUT):
        await rest.wait_for("PATCH", final(payload))
    assert len(fake_openai.requests) == 1
    assert len(rest.matching("PATCH", final(payload))) == 1
    assert len(await usage_records(running.hub)) == 1


async def test_a_long_answer_arrives_as_three_messages_with_the_fence_intact(
    interactions: Interactions, rest: FakeDiscordRest, fake_openai: FakeOpenAI
) -> None:
    prose = ("Lorem ipsum dolor sit amet. " * 50).strip()
    code_lines = [f"print('line {i:03d} of a generated block')  # padding" for i in range(50)]
    code = "```python\n" + "\n".join(code_lines) + "\n```"
    text = prose + "\n\n" + code + "\n\n" + ("The end, again. " * 74).strip()
    assert 4900 <= len(text) <= 5100
    chunks = tuple(text[i : i + 500] for i in range(0, len(text), 500))
    fake_openai.script(reply(text, chunks=chunks))
    payload = command("ask", {"prompt": "Long, please"})
    await interactions.post(payload)
    async with asyncio.timeout(TIMEOUT):
        await rest.wait_for("PATCH", final(payload))
        await rest.wait_for("POST", lambda c: c.path == webhook_path(payload), count=2)
    followups = [m for m in rest.messages.values() if m.get("webhook_id") and m["id"]]
    first = rest.messages[f"original:{payload['token']}"]
    pages = [first["content"]] + [m["content"] for m in followups if m is not first]
    assert len(pages) == 3
    assert all(len(p) <= 2000 for p in pages)
    assert all(p.count("```") % 2 == 0 for p in pages)  # every page's fences are closed
    shown_code = [line for p in pages for line in p.splitlines() if line.startswith("print(")]
    assert shown_code == code_lines
    assert pages[0] == prose


async def test_stop_button_cancels_the_upstream(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script(reply("one two three", gate_after=1))
    payload = command("ask", {"prompt": "Go on"})
    await interactions.post(payload)
    async with asyncio.timeout(TIMEOUT):
        first_edit = await rest.wait_for("PATCH", original(payload))
    assert first_edit.json["content"] == "one "
    [row] = first_edit.json["components"]
    custom_id = row["components"][0]["custom_id"]
    assert custom_id.startswith("stop:chatcmpl-")

    refused = await interactions.post(stop_press(custom_id, user_id=OTHER_USER))
    assert refused.json()["data"]["flags"] == 64
    pressed = await interactions.post(stop_press(custom_id))
    assert pressed.json() == {"type": 6}
    async with asyncio.timeout(TIMEOUT):
        done = await rest.wait_for("PATCH", final(payload))
    assert done.json["content"] == "one \n\n*Stopped.*"
    [record] = await usage_records(running.hub)
    assert record.status == "cancelled"
    late = await interactions.post(stop_press(custom_id))
    assert late.json()["data"]["content"] == "This answer has already finished."
