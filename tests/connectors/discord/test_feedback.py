"""👍/👎 buttons under finished /ask answers, pressed as Discord sends the press (a signed
MESSAGE_COMPONENT interaction): the vote lands next to the usage record."""

from __future__ import annotations

import asyncio
from typing import Any

from nacl.signing import SigningKey
from sqlalchemy import select

from hub.store.routing_tables import Feedback
from tests.connectors.discord.helpers import (
    OTHER_USER,
    USER,
    Interactions,
    command,
    no_stop_button,
    original,
    stop_press,
    usage_records,
)
from tests.fakes.discord_rest import FakeDiscordRest
from tests.fakes.openai_server import FakeOpenAI, error, reply
from tests.support.hubs import RunningHub

TIMEOUT = 10


async def final_edit(rest: FakeDiscordRest, payload: dict[str, Any]) -> Any:
    is_original = original(payload)
    async with asyncio.timeout(TIMEOUT):
        return await rest.wait_for("PATCH", lambda c: is_original(c) and no_stop_button(c.json))


async def votes(running: RunningHub) -> list[tuple[int, int, str, str]]:
    async with running.hub.sessions() as session:
        rows = await session.scalars(select(Feedback).order_by(Feedback.id))
        return [(r.usage_id, r.rating, r.source, r.voter) for r in rows]


def press(custom_id: str, *, user_id: str = USER, guild_id: str | None = None) -> dict[str, Any]:
    payload = stop_press(custom_id, user_id=user_id)  # a button press, whatever the button
    if guild_id is not None:
        payload["guild_id"] = guild_id
    return payload


async def test_a_finished_answer_carries_thumbs_that_vote(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script(reply("Paris."))
    asked = command("ask", {"prompt": "capital of France?"})
    await interactions.post(asked)
    done = await final_edit(rest, asked)
    [usage] = await usage_records(running.hub)
    [row] = done.json["components"]
    up, down = row["components"]
    assert [b["emoji"]["name"] for b in row["components"]] == ["👍", "👎"]
    assert (up["custom_id"], down["custom_id"]) == (
        f"feedback:up:{usage.request_id}",
        f"feedback:down:{usage.request_id}",
    )

    first = await interactions.post(press(up["custom_id"]))
    assert first.json() == {
        "type": 4, "data": {"content": "Thanks: your 👍 is noted.", "flags": 64,
                            "allowed_mentions": first.json()["data"]["allowed_mentions"]},
    }  # fmt: skip
    again = await interactions.post(press(down["custom_id"]))
    assert (
        again.json()["data"]["content"]
        == "Thanks: your 👎 is noted (your earlier vote is replaced)."
    )
    await interactions.post(press(up["custom_id"], user_id=OTHER_USER))
    assert await votes(running) == [
        (usage.id, -1, "discord", USER),
        (usage.id, 1, "discord", OTHER_USER),
    ]


async def test_presses_from_elsewhere_or_unsigned_vote_nothing(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script(reply("Hello."))
    asked = command("ask", {"prompt": "hi"})
    await interactions.post(asked)
    done = await final_edit(rest, asked)
    up = done.json["components"][0]["components"][0]["custom_id"]
    elsewhere = await interactions.post(press(up, guild_id="1300000000000000999"))
    assert elsewhere.json()["data"]["flags"] == 64
    assert elsewhere.json()["data"]["content"].startswith("No answer with id ")
    forged = await interactions.post(press(up), key=SigningKey.generate())
    assert forged.status_code == 401
    assert await votes(running) == []


async def test_a_failed_answer_has_no_thumbs(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.default = error(400, message="bad request")
    asked = command("ask", {"prompt": "hi"})
    await interactions.post(asked)
    async with asyncio.timeout(TIMEOUT):
        await rest.wait_for("POST", lambda c: c.json.get("flags") == 64)  # the ephemeral error
    assert all("feedback:" not in str(c.json) for c in rest.calls)
