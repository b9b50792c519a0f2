"""The OpenAI-compatible API, driven by the openai SDK against the running hub, with a fake
OpenAI-compatible upstream and a fake Anthropic upstream on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import openai
import pytest

from hub.model import Status
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.anthropic_server import reply as anthropic_reply
from tests.fakes.openai_server import FakeOpenAI, cut_after, error, reply
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub
from tests.support.logs import LogCapture
from tests.support.records import usage_rows

UPSTREAM_KEY = "sk-upstream-secret-never-shown"


def config(openai_url: str, anthropic_url: str | None = None) -> dict[str, object]:
    providers: dict[str, object] = {"up": openai_provider_config(openai_url, api_key=UPSTREAM_KEY)}
    models: dict[str, object] = {
        # $0.15 / $0.60 per million tokens: fractions of a micro-dollar, rounded up per request.
        "gpt": model_config(("up", "gpt-4o-mini", 0.15, 0.60)),
        "fallback": model_config(
            ("up", "primary-model", 1.0, 1.0), ("up", "backup-model", 2.0, 3.0)
        ),
    }
    if anthropic_url:
        providers["claude"] = {
            "type": "anthropic",
            "base_url": anthropic_url,
            "api_key": "sk-ant-secret",
        }
        models["claude"] = model_config(("claude", "claude-3-5-haiku", 0.8, 4.0))
    return {"providers": providers, "models": models}


@pytest.fixture
async def running(
    fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic, sqlite_url: str
) -> AsyncIterator[RunningHub]:
    hub = await start_hub(
        config(fake_openai.base_url, fake_anthropic.origin), database_url=sqlite_url
    )
    await hub.serve()
    try:
        yield hub
    finally:
        await hub.close()


def sdk(running: RunningHub, key: str | None = None) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key=key or running.key.key, base_url=running.base_url + "/v1", max_retries=0
    )


async def test_plain_and_streamed_cost_the_same_and_match_prices(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(
        reply("The answer is 42.", prompt_tokens=1234, completion_tokens=567),
        reply("The answer is 42.", prompt_tokens=1234, completion_tokens=567),
    )
    async with sdk(running) as client:
        plain = await client.chat.completions.create(
            model="gpt", messages=[{"role": "user", "content": "Meaning of life?"}]
        )
        stream = await client.chat.completions.create(
            model="gpt",
            messages=[{"role": "user", "content": "Meaning of life?"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        parts, stream_usage = [], None
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
            if chunk.usage is not None:
                stream_usage = chunk.usage
    assert plain.choices[0].message.content == "The answer is 42."
    assert "".join(parts) == "The answer is 42."
    assert (plain.usage.prompt_tokens, plain.usage.completion_tokens) == (1234, 567)
    assert stream_usage is not None
    assert (stream_usage.prompt_tokens, stream_usage.completion_tokens) == (1234, 567)
    # 1234 x $0.15/M + 567 x $0.60/M = 185.1 + 340.2 = 525.3 micro-dollars, rounded up.
    rows = await usage_rows(running.hub)
    assert [(r.prompt_tokens, r.completion_tokens, r.cost_micros, r.status) for r in rows] == [
        (1234, 567, 526, "ok"),
        (1234, 567, 526, "ok"),
    ]
    assert {r.connector for r in rows} == {"openai_api"}
    # The upstream always streams, and always asks for usage.
    assert all(r.json["stream"] is True for r in fake_openai.requests)
    assert all(r.json["stream_options"] == {"include_usage": True} for r in fake_openai.requests)
    assert all(r.headers["authorization"] == f"Bearer {UPSTREAM_KEY}" for r in fake_openai.requests)


async def test_anthropic_deployment_streams_through_openai_api(
    running: RunningHub, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.script(
        anthropic_reply(
            "Bonjour le monde", prompt_tokens=20, completion_tokens=9, start_output_tokens=1
        )
    )
    async with sdk(running) as client:
        stream = await client.chat.completions.create(
            model="claude",
            messages=[
                {"role": "system", "content": "Answer in French."},
                {"role": "user", "content": "Hello world"},
            ],
            stream=True,
            stream_options={"include_usage": True},
        )
        text, usage = "", None
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
            usage = chunk.usage or usage
    assert text == "Bonjour le monde"
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (20, 9)
    sent = fake_anthropic.last_json
    assert sent["system"] == "Answer in French."
    assert sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Hello world"}]}
    ] or sent["messages"] == [{"role": "user", "content": "Hello world"}]
    (row,) = await usage_rows(running.hub)
    # Cumulative output_tokens (1, then 9) is 9, not 10: 20 x 0.8 + 9 x 4.0 = 52 micro-dollars.
    assert (row.prompt_tokens, row.completion_tokens, row.cost_micros) == (20, 9, 52)


async def test_retries_then_falls_over_to_next_deployment(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(
        error(500),
        error(429, retry_after=1),
        error(503),  # primary: 1 try + 2 retries
        reply("from backup", prompt_tokens=10, completion_tokens=2),
    )
    async with sdk(running) as client:
        answer = await client.chat.completions.create(
            model="fallback", messages=[{"role": "user", "content": "hi"}]
        )
    assert answer.choices[0].message.content == "from backup"
    assert [r.json["model"] for r in fake_openai.requests] == [
        "primary-model",
        "primary-model",
        "primary-model",
        "backup-model",
    ]
    # The 429's Retry-After of 1 s was honoured (by the fake clock, no real sleeping).
    assert 1.0 in running.clock.slept  # type: ignore[attr-defined]
    (row,) = await usage_rows(running.hub)
    assert (row.deployment, row.status, row.cost_micros) == ("up/backup-model", "ok", 26)


async def test_all_deployments_down_gives_503_saying_how_often_it_tried(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(*[error(502)] * 6)
    async with sdk(running) as client:
        with pytest.raises(openai.APIStatusError) as caught:
            await client.chat.completions.create(
                model="fallback", messages=[{"role": "user", "content": "hi"}]
            )
    assert caught.value.status_code == 503
    assert "tried 6 times across 2 deployments" in caught.value.message
    (row,) = await usage_rows(running.hub)
    assert (row.status, row.cost_micros, row.error_code) == ("error", 0, "provider_unavailable")


async def test_stream_cut_after_first_chunk_ends_with_error_not_done(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(cut_after(2, "one two three four"))
    async with running.client() as http:
        response = await http.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {running.key.key}"},
            json={
                "model": "gpt",
                "stream": True,
                "messages": [{"role": "user", "content": "count"}],
            },
        )
    body = response.text
    assert response.status_code == 200
    assert '"content":"one "' in body and '"content":"two "' in body
    assert '"code":"stream_interrupted"' in body
    assert "[DONE]" not in body
    assert len(fake_openai.requests) == 1  # no failover once text has reached the caller
    (row,) = await usage_rows(running.hub)
    assert row.status == Status.PARTIAL.value


async def test_client_disconnect_cancels_upstream_and_records_cancelled(
    running: RunningHub, fake_openai: FakeOpenAI, logs: LogCapture
) -> None:
    fake_openai.script(reply("alpha beta gamma delta", gate_after=2))
    async with running.client() as http:
        async with http.stream(
            "POST",
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {running.key.key}"},
            json={"model": "gpt", "stream": True, "messages": [{"role": "user", "content": "go"}]},
        ) as response:
            seen = ""
            async for line in response.aiter_lines():
                seen += line
                if '"content":"beta "' in seen:
                    break
    await fake_openai.disconnected.wait()
    await logs.wait_for_chats(1)
    (row,) = await usage_rows(running.hub)
    assert row.status == "cancelled"
    assert row.completion_tokens >= 1 and row.prompt_tokens >= 1
    assert row.cost_micros > 0


async def test_wrong_key_is_401_with_no_usage(running: RunningHub, fake_openai: FakeOpenAI) -> None:
    async with sdk(running, key="uh-00000000_wrong") as client:
        with pytest.raises(openai.AuthenticationError) as caught:
            await client.chat.completions.create(
                model="gpt", messages=[{"role": "user", "content": "x"}]
            )
    assert caught.value.body["code"] == "invalid_api_key"
    assert await usage_rows(running.hub) == []
    assert fake_openai.requests == []


async def test_unknown_alias_is_404_listing_aliases(running: RunningHub) -> None:
    async with sdk(running) as client:
        with pytest.raises(openai.NotFoundError) as caught:
            await client.chat.completions.create(
                model="nope", messages=[{"role": "user", "content": "x"}]
            )
    assert (
        caught.value.body["message"]
        == "Unknown model 'nope'. Available models: gpt, fallback, claude."
    )
    assert await usage_rows(running.hub) == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"{not json", "body"),
        (b'{"model": "gpt"}', "messages"),
        (b'{"model": "gpt", "messages": [{"role": "wizard", "content": "x"}]}', "messages[0].role"),
        (
            b'{"model": "gpt", "max_tokens": -1, "messages": [{"role": "user", "content": "x"}]}',
            "max_tokens",
        ),
    ],
)
async def test_malformed_requests_are_400(
    running: RunningHub, body: bytes, param: str | None
) -> None:
    async with running.client() as http:
        response = await http.post(
            "/v1/chat/completions",
            headers={
                "Authorization": f"Bearer {running.key.key}",
                "Content-Type": "application/json",
            },
            content=body,
        )
    assert response.status_code == 400
    error_json = response.json()["error"]
    assert error_json["type"] == "invalid_request_error"
    assert error_json["param"] == param
    assert await usage_rows(running.hub) == []


async def test_no_provider_key_in_logs_or_responses(
    running: RunningHub, fake_openai: FakeOpenAI, logs: LogCapture
) -> None:
    fake_openai.script(
        error(401, message=f"Incorrect API key provided: {UPSTREAM_KEY}"), reply("fine")
    )
    async with running.client() as http:
        headers = {"Authorization": f"Bearer {running.key.key}"}
        first = await http.post(
            "/v1/chat/completions",
            headers=headers,
            json={"model": "gpt", "messages": [{"role": "user", "content": "x"}]},
        )
        second = await http.post(
            "/v1/chat/completions",
            headers=headers,
            json={"model": "gpt", "messages": [{"role": "user", "content": "x"}]},
        )
    assert first.status_code == 502
    assert second.status_code == 200
    everything = first.text + second.text + "\n".join(logs.lines)
    assert UPSTREAM_KEY not in everything
    assert running.key.key not in everything
    assert "sk-ant-secret" not in everything
    assert len(logs.chats()) == 2  # one structured line per chat request
    assert logs.chats()[1]["status"] == "ok"


async def test_request_id_and_overhead_headers(running: RunningHub) -> None:
    async with running.client() as http:
        response = await http.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {running.key.key}", "X-Request-ID": "trace-123"},
            json={"model": "gpt", "messages": [{"role": "user", "content": "x"}]},
        )
        generated = await http.get("/healthz")
    assert response.headers["X-Request-ID"] == "trace-123"
    assert float(response.headers["X-UniLLM-Overhead-Ms"]) >= 0
    assert len(generated.headers["X-Request-ID"]) == 32


async def test_health_and_readiness(running: RunningHub) -> None:
    async with running.client() as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "schema": "ok"}}


async def test_models_lists_aliases(running: RunningHub) -> None:
    async with sdk(running) as client:
        models = await client.models.list()
    assert [m.id for m in models.data] == ["gpt", "fallback", "claude"]


async def test_raw_httpx_error_shape_for_missing_key(running: RunningHub) -> None:
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.post("/v1/chat/completions", json={})
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "message": "Missing API key: send 'Authorization: Bearer <team key>'.",
            "type": "authentication_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
