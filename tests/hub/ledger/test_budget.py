"""Reserve-then-settle through `hub.chat`: every ending settles, holds never leak."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.errors import QuotaExceeded
from hub.ledger.usage_entry import UsageEntry
from hub.model import Caller, ChatOptions, ChatRequest, Message, Origin, Usage
from hub.store.event_tables import BudgetAlert
from hub.store.ledger_tables import BudgetCounter, Reservation
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import RunningHub, one_model_hub
from tests.support.records import usage_rows


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    # One token costs 1,000 micro-dollars each way.
    async with one_model_hub(fake_openai.base_url, sqlite_url, usd_per_mtok=1000.0) as hub:
        yield hub


def request(running: RunningHub, text: str = "hi", max_tokens: int = 20) -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=running.team.id, team_name=running.team.name),
        origin=Origin(connector="test", user="u1"),
        messages=(Message.text("user", text),),
        options=ChatOptions(max_tokens=max_tokens),
    )


async def counters(running: RunningHub) -> list[tuple[int, int, int, int]]:
    async with running.hub.sessions() as session:
        rows = await session.scalars(select(BudgetCounter).order_by(BudgetCounter.id))
        return [
            (c.cost_reserved_micros, c.cost_spent_micros, c.tokens_reserved, c.tokens_spent)
            for c in rows
        ]


async def test_ok_request_settles_actual_cost_and_releases_hold(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("a b", prompt_tokens=10, completion_tokens=2))
    async with running.hub.chat(request(running)) as stream:
        result = await stream.collect()
    assert (result.text, result.status.value, result.cost_micros) == ("a b", "ok", 12_000)
    assert await counters(running) == [(0, 12_000, 0, 12)]
    (row,) = await usage_rows(running.hub)
    assert (row.id, row.user, row.connector) == (result.usage_id, "u1", "test")


async def test_cancelled_task_settles_as_cancelled(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("one two three four", gate_after=1))
    seen = asyncio.Event()
    stream = running.hub.chat(request(running))

    async def consume() -> None:
        async with stream:
            async for _ in stream:
                seen.set()

    task = asyncio.create_task(consume())
    await seen.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await fake_openai.disconnected.wait()
    assert stream.result.status.value == "cancelled"
    (row,) = await usage_rows(running.hub)
    assert row.status == "cancelled"
    assert row.completion_tokens == 2  # "one " seen: 4 characters, counted generously
    assert (await counters(running))[0][0] == 0  # nothing left reserved


async def test_leaving_the_loop_early_settles_as_cancelled(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("one two three four", gate_after=2))
    async with running.hub.chat(request(running)) as stream:
        async for _ in stream:
            break
    assert stream.result.status.value == "cancelled"
    assert (await counters(running))[0][0] == 0


async def test_stale_holds_are_released_once(running: RunningHub) -> None:
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    hold = await running.hub.budget.reserve(caller, cost_micros=40_000, tokens=40)
    assert await counters(running) == [(40_000, 0, 40, 0)]
    assert await running.hub.budget.release_stale(timedelta(hours=1)) == 0
    running.clock.advance(2 * 3600)  # type: ignore[attr-defined]
    assert await running.hub.budget.release_stale(timedelta(hours=1)) == 1
    assert await counters(running) == [(0, 0, 0, 0)]
    async with running.hub.sessions() as session:
        assert list(await session.scalars(select(Reservation))) == []
    # The request finally ends: its cost is booked, but the hold is not released twice.
    entry = UsageEntry(
        request_id="late",
        caller=caller,
        origin=Origin(connector="test"),
        alias="gpt",
        deployment="up/m",
        usage=Usage(5, 5),
        cost_micros=10_000,
        latency_ms=1,
        ttft_ms=None,
        status="ok",
    )
    await running.hub.budget.settle(hold, entry)
    assert await counters(running) == [(0, 10_000, 0, 10)]


async def test_thresholds_are_recorded_once_per_month(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.default = reply("x", prompt_tokens=30, completion_tokens=12)  # 42,000 each
    for _ in range(2):
        async with running.hub.chat(request(running)) as stream:
            await stream.collect()
    async with running.hub.sessions() as session:
        alerts = [(a.metric, a.threshold) for a in await session.scalars(select(BudgetAlert))]
    assert alerts == [("cost", 80)]  # 84,000 of 100,000
    with pytest.raises(QuotaExceeded):  # the worst case of a third one no longer fits
        async with running.hub.chat(request(running)) as stream:
            await stream.collect()


async def test_a_reservation_queued_without_a_task_holds_or_refuses_as_reserve_does(
    running: RunningHub,
) -> None:
    """`reserve_queued` is the writer's outcome as a future (once the caller's quotas are in
    memory): the hold as its result, a refusal as its exception, nothing held for it."""
    budget = running.hub.budget
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    assert budget.reserve_queued(caller, cost_micros=1, tokens=1) is None  # quotas not read
    first = await budget.reserve(caller, cost_micros=60_000, tokens=10)  # reads them
    queued = budget.reserve_queued(caller, cost_micros=30_000, tokens=5)
    assert queued is not None
    second = await queued
    assert (second.cost_micros, second.tokens) == (30_000, 5)
    assert await counters(running) == [(90_000, 0, 15, 0)]
    refused = budget.reserve_queued(caller, cost_micros=20_000, tokens=1)  # past 100,000
    assert refused is not None
    with pytest.raises(QuotaExceeded):
        await refused
    assert await counters(running) == [(90_000, 0, 15, 0)]
    assert first.id != second.id


async def test_a_queued_reservation_is_done_with_its_batch_not_a_loop_step_later(
    running: RunningHub,
) -> None:
    """The writer hands the hold (or the refusal) out with the batch's results: the future
    `reserve_queued` returns is done when the batch that wrote it is, with no second future
    woken by a done callback a loop iteration later (on the SQLite file the batch runs
    inline, in the iteration after the queueing)."""
    budget = running.hub.budget
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    await budget.reserve(caller, cost_micros=60_000, tokens=10)  # reads the quotas
    queued = budget.reserve_queued(caller, cost_micros=30_000, tokens=5)
    refused = budget.reserve_queued(caller, cost_micros=20_000, tokens=1)  # past 100,000
    assert queued is not None and refused is not None
    await asyncio.sleep(0)  # one iteration: the writer's flush, then this task
    assert queued.done() and refused.done()
    assert queued.result().cost_micros == 30_000
    assert isinstance(refused.exception(), QuotaExceeded)


async def test_concurrent_reservations_and_settlements_are_one_transaction_each(
    running: RunningHub, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch's jobs written together, not one by one after a failure: a batch that fails
    is written again job by job and still commits each, so only the writer's log tells."""
    budget, writer = running.hub.budget, running.hub.ledger_writer
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    caplog.set_level("INFO", logger="hub.ledger")
    batches = writer.batches
    holds = await asyncio.gather(
        *(budget.reserve(caller, cost_micros=1_000, tokens=10) for _ in range(3))
    )
    await asyncio.gather(
        *(
            budget.settle(
                hold,
                UsageEntry(
                    request_id=f"together-{n}",
                    caller=caller,
                    origin=Origin(connector="test", user="u1"),
                    alias="gpt",
                    deployment="up/m",
                    usage=Usage(prompt_tokens=1, completion_tokens=n),
                    cost_micros=500,
                    latency_ms=n,
                    ttft_ms=None,
                    status="ok",
                ),
            )
            for n, hold in enumerate(holds)
        )
    )
    assert writer.batches - batches == 2
    assert not [r for r in caplog.records if "alone" in r.getMessage()]
    assert await counters(running) == [(0, 1_500, 0, 6)]
