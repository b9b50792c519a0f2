"""Instance leases (#10 point 2), in process on SQLite and PostgreSQL: a hub process whose
lease lapsed has its holds released by a live one, each request recorded once as
`interrupted` (estimated from its checkpoint); a late settle corrects the estimate; a
restarted process recovers its dead predecessor at once. (The kill -9 of a real `hub serve`
is tests/scenarios/test_kill_recovery.py.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update

from hub.clock import FakeClock
from hub.idempotency_keys import Claim, IdempotencyKeyInUse
from hub.ledger.checkpoints import tokens_seen
from hub.model import Caller, ChatOptions, ChatRequest, Message, Origin
from hub.service import Hub
from hub.store.ledger_tables import BudgetCounter, HubInstance, Reservation
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub
from tests.support.records import usage_rows

LEASE_S = 60  # beats every 20 s of real time: none happens while a test runs


@pytest.fixture
async def first(fake_openai: FakeOpenAI, database_url: str) -> AsyncIterator[RunningHub]:
    running = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake_openai.base_url)},
            # One token costs 1,000 micro-dollars each way.
            "models": {"gpt": model_config(("up", "m", 1000.0, 1000.0))},
            "ledger": {"instance_lease_s": LEASE_S, "idempotency_wait_s": 0},
        },
        database_url=database_url,
        clock=FakeClock(),
        monthly_budget_micros=100_000,
    )
    await running.hub.instances.join("web")
    try:
        yield running
    finally:
        await running.close()


async def other_instance(running: RunningHub) -> Hub:
    """Another process on the same database (its own engine and pool)."""
    hub = Hub.open(running.hub.settings, clock=running.clock)
    await hub.instances.join("worker")
    return hub


def request(running: RunningHub) -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=running.team.id, team_name=running.team.name),
        origin=Origin(connector="test", user="u1", channel="c1"),
        messages=(Message.text("user", "Tell me a story"),),
        options=ChatOptions(max_tokens=40),
    )


async def holds(hub: Hub) -> list[Reservation]:
    async with hub.sessions() as session:
        return list(await session.scalars(select(Reservation)))


async def counter(hub: Hub) -> tuple[int, int, int, int]:
    async with hub.sessions() as session:
        c = await session.scalar(select(BudgetCounter))
        assert c is not None
        return c.cost_reserved_micros, c.cost_spent_micros, c.tokens_reserved, c.tokens_spent


async def checkpointed(hub: Hub) -> Reservation:
    async with asyncio.timeout(10):  # the checkpoint is written in the background
        await hub.drain_background()
    (hold,) = await holds(hub)
    assert hold.checkpoint_at is not None
    return hold


async def test_a_lapsed_instance_s_request_is_interrupted_and_a_late_settle_corrects_it(
    first: RunningHub, fake_openai: FakeOpenAI
) -> None:
    clock = first.clock
    assert isinstance(clock, FakeClock)
    fake_openai.script(reply("one two three four five", prompt_tokens=9, gate_after=3))
    live = await other_instance(first)
    try:
        async with first.hub.chat(request(first)) as stream:
            chunks = aiter(stream)
            await anext(chunks)  # "one ": under 2 s, no checkpoint
            assert (await holds(first.hub))[0].checkpoint_at is None
            clock.advance(3)
            await anext(chunks)  # "two ": the stream's first checkpoint
            hold = await checkpointed(first.hub)
            assert (hold.instance_id, hold.request_id) == (
                first.hub.instances.id,
                stream.result.request_id,
            )
            assert (hold.deployment, hold.completion_tokens) == ("up/m", tokens_seen(8))
            prompt = json.loads(hold.context or "")["prompt_tokens"]

            # The first process stops beating (dead, or only stalled): past its lease the
            # live instance recovers its request; a second sweep finds nothing.
            clock.advance(LEASE_S + 1)
            assert await live.instances.sweep() == 1
            assert await live.instances.sweep() == 0
            (record,) = await usage_rows(first.hub)
            assert (record.request_id, record.status, record.estimated) == (
                stream.result.request_id,
                "interrupted",
                True,
            )
            assert (record.prompt_tokens, record.completion_tokens) == (prompt, tokens_seen(8))
            assert (record.channel, record.deployment) == ("c1", "up/m")
            assert record.cost_micros == (prompt + tokens_seen(8)) * 1000
            assert await counter(first.hub) == (
                0,
                record.cost_micros,
                0,
                prompt + tokens_seen(8),
            )
            assert await holds(first.hub) == []

            # It was only stalled: its next beat joins again, and its stream goes on.
            await first.hub.instances.beat()
            fake_openai.gate.set()
            async for _ in chunks:
                pass
        # The late settle replaced the estimate with the provider's count, money exact.
        (record,) = await usage_rows(first.hub)
        assert (record.status, record.estimated) == ("ok", False)
        assert (record.prompt_tokens, record.completion_tokens) == (9, 5)
        assert await counter(first.hub) == (0, 14_000, 0, 14)
        async with first.hub.sessions() as session:
            ids = set(await session.scalars(select(HubInstance.id)))
        assert ids == {first.hub.instances.id, live.instances.id}
    finally:
        await live.close()


async def test_two_live_instances_recover_a_hold_once(
    first: RunningHub, fake_openai: FakeOpenAI
) -> None:
    clock = first.clock
    assert isinstance(clock, FakeClock)
    fake_openai.script(reply("one two three", gate_after=1))
    sweepers = [await other_instance(first) for _ in range(2)]
    stream = first.hub.chat(request(first))
    try:
        await stream.__aenter__()
        clock.advance(LEASE_S + 1)
        recovered = await asyncio.gather(*(s.instances.sweep() for s in sweepers))
        assert sorted(recovered) == [0, 1]
        assert [r.status for r in await usage_rows(first.hub)] == ["interrupted"]
        assert (await counter(first.hub))[0] == 0
    finally:
        fake_openai.gate.set()
        await stream.__aexit__(None, None, None)  # its late settle: still one record
        for s in sweepers:
            await s.close()
    assert [r.status for r in await usage_rows(first.hub)] == ["cancelled"]
    reserved, spent, _, _ = await counter(first.hub)
    assert reserved == 0 and spent == (await usage_rows(first.hub))[0].cost_micros


async def test_a_restarted_process_recovers_its_dead_predecessor_at_once(
    first: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("one two three", gate_after=1))
    stream = first.hub.chat(request(first))
    await stream.__aenter__()
    # Make the first instance's row a process of this host that no longer exists.
    gone = await asyncio.create_subprocess_exec("true")
    await gone.wait()
    async with first.hub.sessions.begin() as session:
        await session.execute(
            update(HubInstance).where(HubInstance.id == first.hub.instances.id).values(pid=gone.pid)
        )
    restarted = await other_instance(first)  # no time passes: no lease has lapsed
    try:
        assert [r.status for r in await usage_rows(first.hub)] == ["interrupted"]
        assert await holds(first.hub) == []
        assert (await counter(first.hub))[0] == 0
    finally:
        fake_openai.gate.set()
        await stream.__aexit__(None, None, None)
        await restarted.close()


async def test_an_idempotency_key_claimed_by_a_lapsed_instance_is_free_again(
    first: RunningHub,
) -> None:
    clock = first.clock
    assert isinstance(clock, FakeClock)
    claimed = await first.hub.idempotency.begin("openai_api", first.team.id, "k-1", "body")
    assert isinstance(claimed, Claim)  # ... and its process dies before it answers
    live = await other_instance(first)
    try:
        with pytest.raises(IdempotencyKeyInUse):
            await live.idempotency.begin("openai_api", first.team.id, "k-1", "body")
        clock.advance(LEASE_S + 1)
        retried = await live.idempotency.begin("openai_api", first.team.id, "k-1", "body")
        assert isinstance(retried, Claim)
        await retried.abandon()
    finally:
        await live.close()
