"""Background work (webhook callbacks, Slack and Discord answers) has no client to hang up:
`[router] request_deadline_s` ends it, settled with one usage record and no hold."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from hub.errors import ProviderTimeout
from hub.ledger.usage_check import MAX_REPORTED_TOKENS, usage_problem
from hub.model import Caller, ChatRequest, Message, Origin, Usage
from hub.store.ledger_tables import Reservation
from tests.fakes.llm_script import error, stall
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import model_config, openai_provider_config, start_hub
from tests.support.records import usage_rows
from tests.support.services import REDIS_URL, delete_redis_prefix, redis_prefix
from tests.support.tcp_proxy import TcpProxy


async def test_background_work_ends_at_the_request_deadline(
    fake_openai: FakeOpenAI, sqlite_url: str
) -> None:
    running = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake_openai.base_url)},
            "models": {"gpt": model_config(("up", "m", 1.0, 2.0))},
            "router": {"request_deadline_s": 0.4, "attempt_deadline_s": 30, "idle_timeout_s": 30},
        },
        database_url=sqlite_url,
    )
    fake_openai.default = reply(" ".join(["tick"] * 10_000), delay=0.02)
    try:
        request = ChatRequest(
            caller=Caller(team_id=running.team.id, team_name=running.team.name),
            origin=Origin(connector="webhooks"),
            messages=(Message.text("user", "hello"),),
        )
        task = await running.hub.chat(request).start(lambda s: s.collect())
        with pytest.raises(ProviderTimeout, match="past the 0.4-second deadline"):
            await task
        [row] = await usage_rows(running.hub)
        assert (row.status, row.error_code) == ("partial", "provider_timeout")
        assert 0 < row.completion_tokens < 10_000
        async with running.hub.sessions() as session:
            assert await session.scalar(select(func.count(Reservation.id))) == 0
    finally:
        await running.close()


@pytest.mark.parametrize(
    ("usage", "problem"),
    [
        (Usage(prompt_tokens=10, completion_tokens=5, cached_tokens=10), None),
        (Usage(prompt_tokens=-1), "usage.prompt_tokens is negative (-1)"),
        (
            Usage(completion_tokens=MAX_REPORTED_TOKENS + 1),
            "usage.completion_tokens is 10,000,001, past any model's 10,000,000",
        ),
        (
            Usage(prompt_tokens=5, cached_tokens=6),
            "cached and cache-write tokens exceed prompt_tokens",
        ),
        (
            Usage(completion_tokens=1, reasoning_tokens=2),
            "reasoning_tokens exceed completion_tokens",
        ),
    ],
)
def test_usage_that_cannot_be_true_is_named(usage: Usage, problem: str | None) -> None:
    assert usage_problem(usage) == problem


async def test_an_answer_delivered_whole_is_not_partial_when_its_end_passes_the_deadline(
    fake_openai: FakeOpenAI, sqlite_url: str
) -> None:
    """The answer's last chunk is out, then the attempt's end (its circuit's failure count
    reset in Redis, which is slow now) runs past the request's deadline: the answer was
    whole, and it ends as one (ok, all its text), not as a timeout or partial."""
    prefix = await redis_prefix()
    parsed = urlsplit(REDIS_URL)
    redis = TcpProxy(parsed.hostname or "127.0.0.1", parsed.port or 6379)
    await redis.start()
    running = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake_openai.base_url)},
            "models": {"gpt": model_config(("up", "m", 1.0, 2.0))},
            "router": {
                "request_deadline_s": 2.0,
                "attempt_deadline_s": 30,
                "idle_timeout_s": 30,
                "max_retries": 1,
            },
            "redis": {
                "url": f"redis://127.0.0.1:{redis.port}{parsed.path or '/0'}",
                "key_prefix": prefix,
            },
        },
        database_url=sqlite_url,
    )
    # A failure the circuit counts (in Redis), then the retry's answer, held at the gate.
    fake_openai.script(error(500), stall(text="all of it"))
    try:
        request = ChatRequest(
            caller=Caller(team_id=running.team.id, team_name=running.team.name),
            origin=Origin(connector="webhooks"),
            messages=(Message.text("user", "hello"),),
        )
        task = await running.hub.chat(request).start(lambda s: s.collect())
        await fake_openai.wait_until(lambda: fake_openai.parked == 1)
        redis.hold()  # the circuit's reset, after the answer, waits past the deadline
        fake_openai.gate.set()
        result = await task
        assert (result.status, result.text) == ("ok", "all of it")
        [row] = await usage_rows(running.hub)
        assert (row.status, row.error_code) == ("ok", None)
    finally:
        redis.flow()
        await running.close()
        await redis.stop()
        await delete_redis_prefix(prefix)
