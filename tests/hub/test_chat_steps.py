"""The loop steps of a chat request's end (#14): with the answer read to its end, the
settlement is queued in the caller's own step as it leaves the stream, so on the SQLite file
(whose batch is written inline, from a callback) the record is committed and the caller goes
on one loop step later (the end's task queued it a step later, and the caller went on a
step after that task's end)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from hub.model import Caller, ChatRequest, Message, Origin
from hub.store.ledger_tables import UsageRecord
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import RunningHub, one_model_hub


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    async with one_model_hub(fake_openai.base_url, sqlite_url) as hub:
        yield hub


async def test_an_answered_request_is_settled_one_loop_step_after_the_caller_leaves(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("a b c", prompt_tokens=10, completion_tokens=3))
    request = ChatRequest(
        caller=Caller(team_id=running.team.id, team_name=running.team.name),
        origin=Origin(connector="test", user="u1"),
        messages=(Message.text("user", "hi"),),
    )
    steps: list[None] = []

    async def counting() -> None:
        while True:
            steps.append(None)
            await asyncio.sleep(0)

    async with running.hub.chat(request) as stream:
        text = [chunk.text async for chunk in stream]
        counter = asyncio.ensure_future(counting())
        await asyncio.sleep(0)
        left = len(steps)
    try:
        assert len(steps) - left == 1
    finally:
        counter.cancel()
    assert "".join(text) == "a b c"
    assert stream.result.usage_id is not None  # settled before the caller went on
    async with running.hub.sessions() as session:
        records = await session.scalar(select(func.count()).select_from(UsageRecord))
    assert records == 1
