"""Settlement cannot be skipped: a cancellation landing while a request settles waits for the
settlement (usage record, hold released, log line) and is re-raised afterwards; background
work started with `ChatStream.start` settles however it ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from hub.errors import QuotaExceeded
from hub.model import Caller, ChatOptions, ChatRequest, Message, Origin
from hub.store.ledger_tables import Reservation
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import RunningHub, one_model_hub
from tests.support.logs import LogCapture
from tests.support.records import usage_rows


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    async with one_model_hub(fake_openai.base_url, sqlite_url, usd_per_mtok=1000.0) as hub:
        yield hub


def request(running: RunningHub, max_tokens: int = 20, text: str = "hi") -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=running.team.id, team_name=running.team.name),
        origin=Origin(connector="test", user="u1"),
        messages=(Message.text("user", text),),
        options=ChatOptions(max_tokens=max_tokens),
    )


async def holds(running: RunningHub) -> int:
    async with running.hub.sessions() as session:
        return int(await session.scalar(select(func.count(Reservation.id))) or 0)


async def test_cancelled_while_settling_waits_for_the_settlement_then_reraises(
    running: RunningHub, fake_openai: FakeOpenAI, logs: LogCapture
) -> None:
    fake_openai.script(reply("a b", prompt_tokens=10, completion_tokens=2))
    answered = asyncio.Event()
    release = asyncio.Event()

    async def one() -> None:
        async with running.hub.chat(request(running)) as stream:
            await stream.collect()
            answered.set()
            await release.wait()

    task = asyncio.create_task(one())
    await answered.wait()
    # The store's one connection is taken: the settlement has to wait for it.
    async with running.hub.sessions.begin() as blocker:
        await blocker.execute(select(1))
        release.set()
        for _ in range(5):
            await asyncio.sleep(0)
        task.cancel()
        for _ in range(5):
            await asyncio.sleep(0)
        assert not task.done()  # still settling, cancellation or not
    with pytest.raises(asyncio.CancelledError):
        await task
    (row,) = await usage_rows(running.hub)
    assert (row.status, row.prompt_tokens, row.completion_tokens) == ("ok", 10, 2)
    assert [c["status"] for c in logs.chats()] == ["ok"]
    assert await holds(running) == 0


async def test_background_work_refuses_at_start_and_settles_when_done(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("a b c", prompt_tokens=10, completion_tokens=3))
    stream = running.hub.chat(request(running))
    task = await stream.start(lambda s: s.collect())
    result = await task
    assert result.text == "a b c" and result.usage_id is not None
    # A prompt bound of 3 + 8 + 4 + 100 tokens at $0.001 each: over the $0.10 left, answer or not
    too_long = request(running, text="x" * 100)
    with pytest.raises(QuotaExceeded):
        await running.hub.chat(too_long).start(lambda s: s.collect())
    assert [r.status for r in await usage_rows(running.hub)] == ["ok"]
    assert await holds(running) == 0


async def test_background_task_cancelled_before_it_ran_still_settles(
    running: RunningHub, logs: LogCapture
) -> None:
    stream = running.hub.chat(request(running))
    task = await stream.start(lambda s: s.collect())
    task.cancel()  # before its first step: its body never runs
    with pytest.raises(asyncio.CancelledError):
        await task
    await logs.wait_for_chats(1)
    (row,) = await usage_rows(running.hub)
    assert (row.status, row.prompt_tokens, row.completion_tokens) == ("cancelled", 0, 0)
    assert await holds(running) == 0
