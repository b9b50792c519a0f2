"""Distrust, bounded (#10 point 4), through the openai SDK against the fake upstream: an
upstream that ignores max_tokens is ended at what was held; usage that cannot be true is
not booked (the request is an error billed at its hold), while Anthropic's cache counts, which
its input_tokens leaves out, are added to the prompt and booked; keep-alive comments do not keep a
request open past the idle timeout, nor a trickle past the attempt deadline. Every ending
leaves one usage record and no hold, and the budget is never overspent.

Prices: $1 per million input tokens, $2 per million output tokens (1 and 2 micro-dollars a
token). The prompt bound of "hello" is 3 + 8 + 4 ("user") + 5 = 20 tokens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from sqlalchemy import func, select

from hub.store.ledger_tables import BudgetCounter, Reservation
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.anthropic_server import reply as anthropic_reply
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub
from tests.support.logs import LogCapture
from tests.support.records import usage_rows

pytestmark = pytest.mark.timeout(60)
HELLO = [{"role": "user", "content": "hello"}]
HELLO_BOUND = 20


async def hub_for(
    fake: FakeOpenAI, database_url: str, *, budget: int | None, router: dict[str, Any] | None = None
) -> RunningHub:
    running = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake.base_url)},
            "models": {"gpt": model_config(("up", "gpt-4o-mini", 1.0, 2.0))},
            "router": {"backoff_base_s": 0.01, "backoff_max_s": 0.05, **(router or {})},
        },
        database_url=database_url,
        monthly_budget_micros=budget,
    )
    await running.serve()
    return running


def sdk(running: RunningHub) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key=running.key.key, base_url=running.base_url + "/v1", max_retries=0
    )


async def nothing_held(running: RunningHub) -> bool:
    async with running.hub.sessions() as session:
        holds = await session.scalar(select(func.count(Reservation.id)))
        reserved = await session.scalar(
            select(func.coalesce(func.sum(BudgetCounter.cost_reserved_micros), 0))
        )
    return holds == 0 and reserved == 0


@pytest.fixture
async def tight(fake_openai: FakeOpenAI, database_url: str) -> AsyncIterator[RunningHub]:
    # 1,000 µ$: "hello" leaves room for 490 answer tokens (20 + 490 * 2 = 1,000).
    running = await hub_for(fake_openai, database_url, budget=1_000)
    try:
        yield running
    finally:
        await running.close()


async def test_an_upstream_ignoring_max_tokens_is_ended_at_the_hold(
    tight: RunningHub, fake_openai: FakeOpenAI, logs: LogCapture
) -> None:
    words = " ".join(f"w{i}" for i in range(2000))
    fake_openai.default = reply(words, gate_after=1000)  # ignores max_tokens, parks later
    async with sdk(tight) as client:
        stream = await client.chat.completions.create(model="gpt", messages=HELLO, stream=True)
        chunks = [c async for c in stream]
        assert fake_openai.last_json["max_tokens"] == 490
        fake_openai.gate.set()  # the fake writes on into the closed connection
        await asyncio.wait_for(fake_openai.disconnected.wait(), 10)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "".join(f"w{i} " for i in range(490))
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    await logs.wait_for_chats(1)  # settled after the client read its last byte
    [row] = await usage_rows(tight.hub)
    assert (row.status, row.prompt_tokens, row.completion_tokens) == ("ok", HELLO_BOUND, 490)
    assert row.cost_micros == 1_000  # the hold, exactly: never past the budget
    assert await nothing_held(tight)
    async with sdk(tight) as client:
        with pytest.raises(openai.RateLimitError):
            await client.chat.completions.create(model="gpt", messages=HELLO)


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": -1_000_000_000, "completion_tokens": 3},
        {"prompt_tokens": 9, "completion_tokens": 10**12},
        # OpenAI counts cached tokens inside prompt_tokens and reasoning inside
        # completion_tokens: a part larger than its whole cannot be true (and the invoice's
        # split into disjoint token types relies on it).
        {"prompt_tokens": 9, "cached_tokens": 10, "completion_tokens": 3},
        {"prompt_tokens": 9, "completion_tokens": 3, "reasoning_tokens": 4},
    ],
    ids=["negative", "absurd", "cached-over-prompt", "reasoning-over-completion"],
)
async def test_impossible_usage_is_an_error_billed_at_the_hold(
    fake_openai: FakeOpenAI, sqlite_url: str, logs: LogCapture, usage: dict[str, int]
) -> None:
    running = await hub_for(fake_openai, sqlite_url, budget=10_000)
    fake_openai.default = reply("one two three", **usage)
    try:
        async with sdk(running) as client:
            with pytest.raises(openai.APIStatusError) as failed:
                await client.chat.completions.create(model="gpt", messages=HELLO, max_tokens=50)
        assert failed.value.status_code == 502
        await logs.wait_for_chats(1)  # settled after the client read its last byte
        [row] = await usage_rows(running.hub)
        assert (row.status, row.error_code) == ("error", "invalid_usage")
        assert (row.prompt_tokens, row.completion_tokens) == (HELLO_BOUND, 50)
        assert row.cost_micros == HELLO_BOUND + 50 * 2
        spent = await running.hub.usage.totals(team_id=running.team.id)
        assert spent.cost_micros == HELLO_BOUND + 50 * 2
        assert any(row.request_id in line and "impossible usage" in line for line in logs.lines)
        assert await nothing_held(running)
    finally:
        await running.close()


async def test_keep_alive_comments_do_not_keep_a_request_open(
    fake_openai: FakeOpenAI, sqlite_url: str, logs: LogCapture
) -> None:
    running = await hub_for(
        fake_openai, sqlite_url, budget=None, router={"idle_timeout_s": 0.3, "max_retries": 1}
    )
    fake_openai.default = reply("never sent", ping_every=0.02)
    try:
        async with sdk(running) as client:
            with pytest.raises(openai.APIStatusError) as failed:
                await client.chat.completions.create(model="gpt", messages=HELLO, stream=True)
        assert failed.value.status_code == 503
        assert "tried 2 times across 1 deployment" in str(failed.value)
        assert len(fake_openai.requests) == 2  # retried once, then given up
        await logs.wait_for_chats(1)  # settled after the client read its last byte
        [row] = await usage_rows(running.hub)
        assert (row.status, row.error_code) == ("error", "provider_timeout")
        assert await nothing_held(running)
    finally:
        await running.close()


async def test_keep_alive_after_some_text_ends_the_answer_partial(
    fake_openai: FakeOpenAI, sqlite_url: str, logs: LogCapture
) -> None:
    running = await hub_for(fake_openai, sqlite_url, budget=None, router={"idle_timeout_s": 0.3})
    fake_openai.default = reply("one two three", ping_every=0.02, ping_after=2)
    try:
        async with sdk(running) as client:
            stream = await client.chat.completions.create(model="gpt", messages=HELLO, stream=True)
            seen = []
            with pytest.raises(openai.APIError):
                async for chunk in stream:
                    if chunk.choices:
                        seen.append(chunk.choices[0].delta.content or "")
        assert "".join(seen) == "one two "
        await logs.wait_for_chats(1)  # settled after the client read its last byte
        [row] = await usage_rows(running.hub)
        assert row.status == "partial"
        assert await nothing_held(running)
    finally:
        await running.close()


async def test_a_trickle_that_never_goes_idle_ends_at_the_attempt_deadline(
    fake_openai: FakeOpenAI, sqlite_url: str, logs: LogCapture
) -> None:
    running = await hub_for(
        fake_openai,
        sqlite_url,
        budget=None,
        router={"idle_timeout_s": 5, "attempt_deadline_s": 0.5, "max_retries": 0},
    )
    fake_openai.default = reply(" ".join(["tick"] * 10_000), delay=0.02)
    try:
        async with sdk(running) as client:
            stream = await client.chat.completions.create(model="gpt", messages=HELLO, stream=True)
            with pytest.raises(openai.APIError, match="cut off"):
                async for _ in stream:
                    pass
        await logs.wait_for_chats(1)  # settled after the client read its last byte
        [row] = await usage_rows(running.hub)
        assert row.status == "partial" and 0 < row.completion_tokens < 10_000
        assert await nothing_held(running)
    finally:
        await running.close()


async def test_parts_equal_to_their_whole_are_booked(
    fake_openai: FakeOpenAI, sqlite_url: str, logs: LogCapture
) -> None:
    """The edge of the rule above: every prompt token cached, every answer token reasoning."""
    running = await hub_for(fake_openai, sqlite_url, budget=10_000)
    usage = {"prompt_tokens": 9, "cached_tokens": 9, "completion_tokens": 3, "reasoning_tokens": 3}
    fake_openai.default = reply("one two three", **usage)
    try:
        async with sdk(running) as client:
            answer = await client.chat.completions.create(model="gpt", messages=HELLO)
        assert answer.choices[0].message.content == "one two three"
        await logs.wait_for_chats(1)
        [row] = await usage_rows(running.hub)
        assert (row.status, row.prompt_tokens, row.cached_tokens) == ("ok", 9, 9)
        assert (row.completion_tokens, row.reasoning_tokens) == (3, 3)
        assert row.cost_micros == 9 * 1 + 3 * 2  # cached input at the input price (none set)
        assert await nothing_held(running)
    finally:
        await running.close()


async def test_anthropic_cache_tokens_are_part_of_the_prompt_and_never_refused(
    fake_anthropic: FakeAnthropic, sqlite_url: str, logs: LogCapture
) -> None:
    """Anthropic's input_tokens leaves out cache reads and writes, so its cache counts are
    routinely larger than input_tokens: the hub's prompt figure adds them, and the answer is
    booked, not refused as impossible usage.

    Prices: input $1, cached input $0.10, cache write $1.25, output $2 per million tokens."""
    deployment = {
        "provider": "claude",
        "model": "claude-sonnet-4-5",
        "input_usd_per_mtok": 1.0,
        "output_usd_per_mtok": 2.0,
        "cached_input_usd_per_mtok": 0.1,
        "cache_write_usd_per_mtok": 1.25,
    }
    running = await start_hub(
        {
            "providers": {
                "claude": {"type": "anthropic", "base_url": fake_anthropic.base_url, "api_key": "k"}
            },
            "models": {"gpt": {"deployments": [deployment]}},
        },
        database_url=sqlite_url,
    )
    await running.serve()
    fake_anthropic.default = anthropic_reply(
        "one two three", prompt_tokens=20, cached_tokens=1800, cache_write_tokens=300
    )
    try:
        async with sdk(running) as client:
            answer = await client.chat.completions.create(model="gpt", messages=HELLO)
            assert answer.usage is not None
            assert answer.usage.prompt_tokens == 20 + 1800 + 300
        await logs.wait_for_chats(1)
        [row] = await usage_rows(running.hub)
        assert (row.status, row.error_code) == ("ok", None)
        assert (row.prompt_tokens, row.cached_tokens, row.cache_write_tokens) == (2120, 1800, 300)
        assert row.completion_tokens == 3
        # 20 × 1 + 1,800 × 0.1 + 300 × 1.25 + 3 × 2 micro-dollars.
        assert row.cost_micros == 20 + 180 + 375 + 6
        assert await nothing_held(running)
    finally:
        await running.close()
