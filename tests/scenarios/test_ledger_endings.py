"""Every streamed request ends in exactly one usage record, one log line and no hold, however
it ends: upstream errors, a stream that breaks, a client that hangs up after the error event
or in the middle of the answer. Driven by the openai SDK, 30 concurrent requests per case."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import openai
import pytest
from sqlalchemy import func, select

from hub.store.ledger_tables import BudgetCounter, Reservation
from tests.fakes.openai_server import FakeOpenAI, cut_after, error, mid_stream_error, reply
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub
from tests.support.logs import LogCapture
from tests.support.records import usage_rows

N = 30
pytestmark = pytest.mark.timeout(120)  # 180 requests: slow when the machine is busy


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake_openai.base_url)},
            "models": {"gpt": model_config(("up", "gpt-4o-mini", 1.0, 2.0))},
            # The deployment fails on purpose 30 times at once: its circuit breaker would open
            # after 5 and answer the rest 503 before any call. This test is about endings.
            "router": {
                "backoff_base_s": 0.01,
                "backoff_max_s": 0.05,
                "circuit_failures": 1000,
                "circuit_min_requests": 100000,
            },
        },
        database_url=sqlite_url,
        monthly_budget_micros=10_000_000,
    )
    await hub.serve()
    try:
        yield hub
    finally:
        await hub.close()


def sdk(running: RunningHub) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key=running.key.key, base_url=running.base_url + "/v1", max_retries=0
    )


async def ask(client: openai.AsyncOpenAI, *, hang_up_after: int | None = None) -> str:
    """One streamed request; returns how it ended for the client."""
    try:
        stream = await client.chat.completions.create(
            model="gpt", messages=[{"role": "user", "content": "hello"}], stream=True
        )
        async with stream:  # leaving the block closes the connection: a hang-up
            seen = 0
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    seen += 1
                    if hang_up_after is not None and seen >= hang_up_after:
                        return "hung up"
    except openai.APIError:
        return "error"
    return "done"


async def holds_left(running: RunningHub) -> tuple[int, int]:
    async with running.hub.sessions() as session:
        holds = await session.scalar(select(func.count(Reservation.id)))
        reserved = await session.scalar(
            select(func.coalesce(func.sum(BudgetCounter.cost_reserved_micros), 0))
        )
    return int(holds or 0), int(reserved or 0)


CASES = {
    # upstream behaviour, how the client ends, the status every usage record must have
    "upstream 400": (error(400), None, "error"),
    "upstream 429 after retries": (error(429), None, "error"),
    "upstream 500 after retries": (error(500), None, "error"),
    "break after the first chunk": (cut_after(1, "one two three four"), None, "partial"),
    "hang-up right after the error event": (mid_stream_error(after=1), None, "partial"),
    "hang-up mid-answer": (reply("one two three four", gate_after=1), 1, "cancelled"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_thirty_streamed_requests_leave_thirty_records_and_no_hold(
    running: RunningHub, fake_openai: FakeOpenAI, logs: LogCapture, case: str
) -> None:
    behaviour, hang_up_after, status = CASES[case]
    fake_openai.default = behaviour
    async with sdk(running) as client:
        endings = await asyncio.gather(
            *(ask(client, hang_up_after=hang_up_after) for _ in range(N))
        )
    assert set(endings) == {"hung up" if hang_up_after else "error"}
    # The hub finishes each request after the client left: wait for its log lines.
    await logs.wait_for_chats(N, timeout=50)
    fake_openai.gate.set()
    rows = await usage_rows(running.hub)
    assert [r.status for r in rows] == [status] * N
    assert len({r.request_id for r in rows}) == N
    assert [c["status"] for c in logs.chats()] == [status] * N  # one log line each
    assert await holds_left(running) == (0, 0)
    spent = await running.hub.usage.totals(team_id=running.team.id)
    assert spent.requests == N
    assert spent.cost_micros == sum(r.cost_micros for r in rows)
