"""Idempotency-Key on POST /v1/chat/completions (issue #10 point 6), through the openai SDK
and plain HTTP against the running hub and the fake upstream: a repeat is answered from the
first answer, with no provider call and no second usage record."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest

from hub.idempotency_keys import REPLAYED_HEADER
from tests.fakes.openai_server import FakeOpenAI, error, reply
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub
from tests.support.records import usage_rows

ASK = {"model": "gpt", "messages": [{"role": "user", "content": "Meaning of life?"}]}


def config(upstream: str, *, wait_s: float = 10.0) -> dict[str, Any]:
    return {
        "providers": {"up": openai_provider_config(upstream)},
        "models": {"gpt": model_config(("up", "gpt-4o-mini", 0.15, 0.60))},
        "ledger": {"idempotency_wait_s": wait_s},
    }


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub(config(fake_openai.base_url), database_url=sqlite_url)
    await hub.serve()
    try:
        yield hub
    finally:
        await hub.close()


def http(running: RunningHub, key: str | None = None) -> httpx.AsyncClient:
    return running.client(headers={"Authorization": f"Bearer {key or running.key.key}"})


def chat_calls(fake: FakeOpenAI) -> int:
    return sum(r.path == "/v1/chat/completions" for r in fake.requests)


async def test_sequential_repeat_is_answered_from_the_first(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("The answer is 42.", prompt_tokens=12, completion_tokens=5))
    async with openai.AsyncOpenAI(
        api_key=running.key.key, base_url=running.base_url + "/v1", max_retries=0
    ) as client:
        raw = [
            await client.chat.completions.with_raw_response.create(
                **ASK, extra_headers={"Idempotency-Key": "retry-me-1"}
            )
            for _ in range(2)
        ]
    first, repeat = (r.parse() for r in raw)
    assert repeat.choices[0].message.content == "The answer is 42."
    assert repeat.model_dump() == first.model_dump()  # same id, text and usage
    assert raw[0].headers.get(REPLAYED_HEADER) is None
    assert raw[1].headers[REPLAYED_HEADER] == "true"
    assert raw[1].headers["X-UniLLM-Deployment"] == raw[0].headers["X-UniLLM-Deployment"]
    assert chat_calls(fake_openai) == 1
    rows = await usage_rows(running.hub)
    assert [(r.request_id, r.status, r.completion_tokens) for r in rows] == [(first.id, "ok", 5)]


async def test_ten_concurrent_repeats_make_one_provider_call(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("one two three", gate_after=1))
    headers = {"Idempotency-Key": "concurrent"}
    async with http(running) as c:
        sent = [
            asyncio.create_task(c.post("/v1/chat/completions", json=ASK, headers=headers))
            for _ in range(10)
        ]
        async with asyncio.timeout(20):
            await fake_openai.at_gate.wait()  # the first is answering, parked upstream
            while running.hub.idempotency.waiting < 9:  # the other nine wait for it
                await asyncio.sleep(0.01)
        fake_openai.gate.set()
        answers = await asyncio.gather(*sent)
    assert [a.status_code for a in answers] == [200] * 10
    assert {a.json()["choices"][0]["message"]["content"] for a in answers} == {"one two three"}
    assert len({a.json()["id"] for a in answers}) == 1
    assert sorted(a.headers.get(REPLAYED_HEADER, "") for a in answers) == [""] + ["true"] * 9
    assert chat_calls(fake_openai) == 1
    assert len(await usage_rows(running.hub)) == 1


async def test_repeat_while_running_gets_409_past_the_wait(
    fake_openai: FakeOpenAI, sqlite_url: str
) -> None:
    running = await start_hub(config(fake_openai.base_url, wait_s=0), database_url=sqlite_url)
    await running.serve()
    fake_openai.script(reply("slow answer", gate_after=1))
    headers = {"Idempotency-Key": "busy"}
    try:
        async with http(running) as c:
            first = asyncio.create_task(c.post("/v1/chat/completions", json=ASK, headers=headers))
            async with asyncio.timeout(20):
                await fake_openai.at_gate.wait()
            busy = await c.post("/v1/chat/completions", json=ASK, headers=headers)
            fake_openai.gate.set()
            done = await first
            after = await c.post("/v1/chat/completions", json=ASK, headers=headers)
    finally:
        await running.close()
    assert busy.status_code == 409
    assert busy.headers["Retry-After"] == "2"
    assert busy.json()["error"]["code"] == "idempotency_key_in_use"
    assert done.status_code == 200
    assert (after.status_code, after.headers[REPLAYED_HEADER]) == (200, "true")
    assert after.json() == done.json()
    assert chat_calls(fake_openai) == 1


async def test_same_key_with_another_body_is_refused(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    headers = {"Idempotency-Key": "k-2"}
    other = {**ASK, "messages": [{"role": "user", "content": "Something else?"}]}
    async with http(running) as c:
        first = await c.post("/v1/chat/completions", json=ASK, headers=headers)
        # The same body with its keys in another order and other spacing is the same request.
        same = await c.post(
            "/v1/chat/completions",
            content=b'{"messages": [{"content": "Meaning of life?", "role": "user"}],'
            b' "model": "gpt"}',
            headers={**headers, "Content-Type": "application/json"},
        )
        refused = await c.post("/v1/chat/completions", json=other, headers=headers)
        # Keys belong to a team: another team's same key is another request.
        other_key = await running.hub.keys.create(
            await running.hub.teams.create("globex"), name="other"
        )
        async with http(running, other_key.key) as c2:
            theirs = await c2.post("/v1/chat/completions", json=other, headers=headers)
    assert first.status_code == 200
    assert same.headers[REPLAYED_HEADER] == "true"
    assert refused.status_code == 422
    problem = refused.json()["error"]
    assert problem["code"] == "idempotency_key_reused"
    assert problem["param"] == "Idempotency-Key"
    assert "different request body" in problem["message"]
    assert theirs.status_code == 200 and REPLAYED_HEADER not in theirs.headers
    assert chat_calls(fake_openai) == 2
    assert len(await usage_rows(running.hub)) == 2


async def test_stream_replay_is_the_same_sse(running: RunningHub, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(reply("Streamed once, replayed later.", completion_tokens=6))
    body = {**ASK, "stream": True, "stream_options": {"include_usage": True}}
    headers = {"Idempotency-Key": "stream-1"}
    async with http(running) as c:
        first = await c.post("/v1/chat/completions", json=body, headers=headers)
        repeat = await c.post("/v1/chat/completions", json=body, headers=headers)
    assert first.headers["Content-Type"].startswith("text/event-stream")
    assert repeat.headers["Content-Type"].startswith("text/event-stream")
    assert repeat.headers[REPLAYED_HEADER] == "true"
    assert repeat.text == first.text  # every chunk as it went out, then [DONE]
    assert first.text.endswith("data: [DONE]\n\n")
    assert chat_calls(fake_openai) == 1
    # The SDK reads the replay like any stream.
    async with openai.AsyncOpenAI(
        api_key=running.key.key, base_url=running.base_url + "/v1", max_retries=0
    ) as client:
        stream = await client.chat.completions.create(**body, extra_headers=headers)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "Streamed once, replayed later."
    assert chat_calls(fake_openai) == 1
    assert [r.status for r in await usage_rows(running.hub)] == ["ok"]


async def test_a_failed_request_is_not_remembered(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(error(400, message="Bad things."), reply("Now it works."))
    headers = {"Idempotency-Key": "try-again"}
    async with http(running) as c:
        failed = await c.post("/v1/chat/completions", json=ASK, headers=headers)
        retried = await c.post("/v1/chat/completions", json=ASK, headers=headers)
        bad_key = await c.post("/v1/chat/completions", json=ASK, headers={"Idempotency-Key": ""})
    assert failed.status_code == 400
    assert retried.status_code == 200 and REPLAYED_HEADER not in retried.headers
    assert retried.json()["choices"][0]["message"]["content"] == "Now it works."
    assert bad_key.status_code == 400
    assert bad_key.json()["error"]["param"] == "Idempotency-Key"
    assert chat_calls(fake_openai) == 2
    assert [r.status for r in await usage_rows(running.hub)] == ["error", "ok"]


async def test_a_key_is_remembered_for_a_day(running: RunningHub, fake_openai: FakeOpenAI) -> None:
    headers = {"Idempotency-Key": "daily"}
    async with http(running) as c:
        first = await c.post("/v1/chat/completions", json=ASK, headers=headers)
        running.clock.advance(23 * 3600)  # type: ignore[attr-defined]
        within = await c.post("/v1/chat/completions", json=ASK, headers=headers)
        running.clock.advance(2 * 3600)  # type: ignore[attr-defined]
        after = await c.post("/v1/chat/completions", json=ASK, headers=headers)
    assert within.json() == first.json()
    assert after.status_code == 200 and REPLAYED_HEADER not in after.headers
    assert after.json()["id"] != first.json()["id"]
    assert chat_calls(fake_openai) == 2
