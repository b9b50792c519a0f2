"""Quotas and event subscriptions read from memory (#14.5): after the first request no reserve
reads quotas and no settle reads subscriptions; every change the hub makes is seen by the next
request (in this process at once, in another hub through Redis), the TTL bounds a change made
behind the hub's back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import select, text

from hub.clock import FakeClock
from hub.errors import QuotaExceeded
from hub.events.subscriptions import Subscriptions
from hub.ledger.teams import QuotaSpec
from hub.model import Caller, ChatOptions, ChatRequest, Message, Origin
from hub.service import Hub
from hub.settings_cache import CHANNEL
from hub.store.event_tables import OutboxEvent
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import (
    RunningHub,
    model_config,
    openai_provider_config,
    start_hub,
)
from tests.support.statements import Statements
from tests.support.two_hubs import TwoHubs


def config(fake: FakeOpenAI, extra: dict[str, object] | None = None) -> dict[str, object]:
    return {
        "providers": {"up": openai_provider_config(fake.base_url)},
        # One token costs 1,000 micro-dollars each way.
        "models": {"gpt": model_config(("up", "m", 1000.0, 1000.0))},
        "webhooks": {"allow_private_targets": True},
        **(extra or {}),
    }


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    fake_openai.default = reply("ok", prompt_tokens=2, completion_tokens=1)
    hub = await start_hub(
        config(fake_openai), database_url=sqlite_url, monthly_budget_micros=10_000_000
    )
    try:
        yield hub
    finally:
        await hub.close()


def ask(running: RunningHub, max_tokens: int = 10) -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=running.team.id, team_name=running.team.name),
        origin=Origin(connector="test", user="u1"),
        messages=(Message.text("user", "hi"),),
        model="gpt",
        options=ChatOptions(max_tokens=max_tokens),
    )


async def chat(hub: Hub, request: ChatRequest) -> str:
    async with hub.chat(request) as stream:
        result = await stream.collect()
    return result.status.value


async def outbox(hub: Hub) -> list[str]:
    async with hub.sessions() as session:
        return list(await session.scalars(select(OutboxEvent.type)))


async def test_requests_after_the_first_read_no_quota_and_no_subscription(
    running: RunningHub, statements: Statements
) -> None:
    for _ in range(3):
        assert await chat(running.hub, ask(running)) == "ok"
    assert len(statements.reading("quotas")) == 1
    # Read at most once (issuing the key at set-up may have asked already).
    assert len(statements.reading("subscriptions")) <= 1


async def test_a_quota_set_through_the_hub_applies_to_the_next_request(
    running: RunningHub,
) -> None:
    assert await chat(running.hub, ask(running)) == "ok"  # the team's budget is cached
    await running.hub.teams.set_quota(
        QuotaSpec("team", running.team.id, "month", 1_000, None), team_id=running.team.id
    )
    with pytest.raises(QuotaExceeded):
        await chat(running.hub, ask(running))
    await running.hub.teams.set_quota(
        QuotaSpec("team", running.team.id, "month", None, None), team_id=running.team.id
    )
    assert await chat(running.hub, ask(running)) == "ok"


async def test_a_subscription_created_or_deleted_applies_to_the_next_settle(
    running: RunningHub,
) -> None:
    assert await chat(running.hub, ask(running)) == "ok"  # "no subscriptions" is cached
    subscriptions = Subscriptions.for_hub(running.hub)
    created = await subscriptions.create(
        team_id=running.team.id, url="http://127.0.0.1:9/hook", events=["completion.created"]
    )
    assert await chat(running.hub, ask(running)) == "ok"
    assert await outbox(running.hub) == ["completion.created"]
    await subscriptions.delete(created.id)
    assert await chat(running.hub, ask(running)) == "ok"
    assert await outbox(running.hub) == ["completion.created"]


async def test_a_rolled_back_change_keeps_the_cache(
    running: RunningHub, statements: Statements
) -> None:
    assert await chat(running.hub, ask(running)) == "ok"
    with pytest.raises(RuntimeError):
        async with running.hub.sessions.begin() as session:
            await session.execute(text("UPDATE quotas SET cost_limit_micros = 1"))
            raise RuntimeError("changed my mind")
    assert await chat(running.hub, ask(running)) == "ok"
    assert len(statements.reading("quotas")) == 1


async def test_the_ttl_bounds_a_change_the_hub_did_not_make(running: RunningHub) -> None:
    assert await chat(running.hub, ask(running)) == "ok"
    async with running.hub.engine.begin() as conn:  # another tool, behind the hub's back
        await conn.execute(text("UPDATE quotas SET cost_limit_micros = 1000"))
    assert await chat(running.hub, ask(running)) == "ok"  # still cached
    assert isinstance(running.clock, FakeClock)
    running.clock.advance(5.01)  # [ledger] settings_cache_s = 5
    with pytest.raises(QuotaExceeded):
        await chat(running.hub, ask(running))


@pytest.mark.redis
async def test_a_quota_set_in_one_hub_reaches_another_through_redis(
    fake_openai: FakeOpenAI, two_hubs: Callable[..., Awaitable[TwoHubs]]
) -> None:
    fake_openai.default = reply("ok", prompt_tokens=2, completion_tokens=1)
    hubs = await two_hubs(config(fake_openai), monthly_budget_micros=10_000_000)
    first = hubs.first
    assert await chat(hubs.second, ask(first)) == "ok"  # cached in the second hub
    quota = QuotaSpec("team", first.team.id, "month", 1_000, None)
    await hubs.after_signal(CHANNEL, first.hub.teams.set_quota(quota, team_id=first.team.id))
    with pytest.raises(QuotaExceeded):
        await chat(hubs.second, ask(first))


async def test_concurrent_requests_of_a_lapsed_entry_read_it_once(
    running: RunningHub, statements: Statements
) -> None:
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    await running.hub.budget.quotas.of(caller)
    assert isinstance(running.clock, FakeClock)
    running.clock.advance(5.01)
    await asyncio.gather(*(running.hub.budget.quotas.of(caller) for _ in range(16)))
    assert len(statements.reading("quotas")) == 2


async def test_bindings_and_channel_defaults_are_read_once_and_changes_apply_at_once(
    running: RunningHub, statements: Statements
) -> None:
    hub = running.hub
    assert await hub.bindings.caller_for("discord", "G1") is None
    await hub.bindings.bind("discord", "G1", running.team)
    caller = Caller(team_id=running.team.id, team_name=running.team.name)
    for _ in range(3):
        assert await hub.bindings.caller_for("discord", "G1") == caller
    assert len(statements.reading("teams JOIN bindings")) == 2  # unbound, then bound
    assert await hub.channels.get("discord", "C1") is None
    await hub.channels.set("discord", "C1", "gpt", team_id=running.team.id)
    for _ in range(3):
        assert await hub.channels.get("discord", "C1") == "gpt"
    assert len(statements.reading("channel_settings")) == 3  # two by the cache, one by set
    await hub.channels.set("discord", "C1", None, team_id=running.team.id)
    assert await hub.channels.get("discord", "C1") is None
    await hub.bindings.unbind("discord", "G1")
    assert await hub.bindings.caller_for("discord", "G1") is None
    await hub.bindings.bind("discord", "G1", running.team)
    assert await hub.bindings.caller_for("discord", "G1") == caller
    await hub.teams.archive(running.team)  # unbinds the team's workspaces and guilds
    assert await hub.bindings.caller_for("discord", "G1") is None


@pytest.mark.redis
async def test_a_binding_made_in_one_hub_reaches_another_through_redis(
    fake_openai: FakeOpenAI, two_hubs: Callable[..., Awaitable[TwoHubs]]
) -> None:
    hubs = await two_hubs(config(fake_openai))
    first = hubs.first
    assert await hubs.second.bindings.caller_for("slack", "T1") is None  # cached there
    await hubs.after_signal(CHANNEL, first.hub.bindings.bind("slack", "T1", first.team))
    found = await hubs.second.bindings.caller_for("slack", "T1")
    assert found == Caller(team_id=first.team.id, team_name=first.team.name)
    await hubs.after_signal(CHANNEL, first.hub.channels.set("slack", "C9", "gpt"))
    assert await hubs.second.channels.get("slack", "C9") == "gpt"


async def test_a_renamed_team_is_named_so_by_its_bindings_at_once(database_url: str) -> None:
    """The binding's Caller carries the team's name: renaming the team (a Team row, no
    Binding row, changes) must drop the cached Caller in the same process at once."""
    running = await start_hub({}, database_url=database_url)
    hub = running.hub
    try:
        await hub.bindings.bind("slack", "T7", running.team)
        cached = await hub.bindings.caller_for("slack", "T7")
        assert cached == Caller(team_id=running.team.id, team_name=running.team.name)
        await hub.teams.rename(running.team, "renamed team")
        assert await hub.bindings.caller_for("slack", "T7") == Caller(
            team_id=running.team.id, team_name="renamed team"
        )
    finally:
        await running.close()
