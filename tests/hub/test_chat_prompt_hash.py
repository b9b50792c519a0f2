"""A chat request's hash (its usage record's, hub/prompt_hash.py) is worked out while the
upstream answers, off the path from the upstream's last byte to the record."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from hub.model import Caller, ChatRequest, Message, Origin
from hub.prompt_hash import prompt_hash
from hub.store.ledger_tables import UsageRecord
from tests.fakes.llm_script import reply, stall
from tests.fakes.openai_server import FakeOpenAI
from tests.support.hubs import RunningHub, one_model_hub


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    async with one_model_hub(fake_openai.base_url, sqlite_url) as hub:
        yield hub


def _request(running: RunningHub, text: str) -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=running.team.id, team_name=running.team.name),
        origin=Origin(connector="test", user="u1"),
        messages=(Message.text("user", text),),
        model="gpt",
    )


async def _recorded_hash(running: RunningHub, request_id: str) -> str | None:
    async with running.hub.sessions() as session:
        return await session.scalar(
            select(UsageRecord.prompt_hash).where(UsageRecord.request_id == request_id)
        )


async def test_the_hash_is_known_while_the_upstream_holds_its_answer(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(stall(text="a b c"))
    request = _request(running, "hello")
    async with running.hub.chat(request) as stream:
        first = asyncio.ensure_future(anext(aiter(stream)))
        await fake_openai.wait_until(lambda: fake_openai.parked == 1)  # nothing sent back yet
        assert stream.prompt_hash == prompt_hash(request, alias="gpt")
        fake_openai.gate.set()
        assert (await first).text
        async for _ in stream:
            pass
    assert await _recorded_hash(running, stream.result.request_id) == stream.prompt_hash


async def test_a_request_ended_before_the_upstream_was_asked_is_hashed_for_its_record(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("a b c"))
    request = _request(running, "left at once")
    async with running.hub.chat(request) as stream:
        pass  # admitted and held, never read: settled as cancelled
    assert stream.prompt_hash is None
    assert await _recorded_hash(running, stream.result.request_id) == prompt_hash(
        request, alias="gpt"
    )
