"""The OpenAI-compatible API as a transparent gateway: the client's body reaches the upstream
unchanged but for what the hub must set, the upstream's chunks reach the client unchanged but
for `id` and `model`, and errors keep their real statuses, streamed or not."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest

from tests.fakes.llm_script import Replay
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub
from tests.support.records import usage_rows

UPSTREAM_KEY = "sk-upstream-secret-never-shown"
HUB_SET = ("model", "stream", "stream_options", "max_tokens", "max_completion_tokens")


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    config = {
        "providers": {"up": openai_provider_config(fake_openai.base_url, api_key=UPSTREAM_KEY)},
        "models": {"gpt": model_config(("up", "gpt-4o-mini", 1.0, 2.0))},
        "router": {"max_retries": 0},
    }
    hub = await start_hub(config, database_url=sqlite_url)
    await hub.serve()
    try:
        yield hub
    finally:
        await hub.close()


def auth(running: RunningHub) -> dict[str, str]:
    return {"Authorization": f"Bearer {running.key.key}"}


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-up1",
        "object": "chat.completion.chunk",
        "created": 1_760_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_up",
        "service_tier": "default",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
        **extra,
    }


USAGE = {
    "prompt_tokens": 20,
    "completion_tokens": 5,
    "total_tokens": 25,
    "prompt_tokens_details": {"cached_tokens": 8, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 2, "audio_tokens": 0},
}
STREAM = (
    chunk({"role": "assistant", "content": "", "refusal": None}),
    chunk({"content": "Hi"}, x_upstream={"queue_ms": 3}),
    chunk({}, "stop"),
    {**chunk({}), "choices": [], "usage": USAGE},
)


async def test_request_body_passes_through_but_for_what_the_hub_sets(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    body = {
        "model": "gpt",
        "messages": [
            {"role": "developer", "content": "Be brief.", "name": "house-rules"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": "world"}],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": '{"q": 1}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "42"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "lookup",
                    "parameters": {"type": "object", "properties": {"q": {"type": "integer"}}},
                    "strict": True,
                },
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": "lookup"}},
        "parallel_tool_calls": False,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "strict": True, "schema": {"type": "object"}},
        },
        "n": 2,
        "logprobs": True,
        "top_logprobs": 3,
        "seed": 7,
        "frequency_penalty": 0.5,
        "logit_bias": {"50256": -100},
        "metadata": {"run": "a"},
        "store": True,
        "reasoning_effort": "low",
        "service_tier": "flex",
        "user": "u-1",
        "top_k": 40,  # no OpenAI name: passed on all the same
        "chat_template_kwargs": {"enable_thinking": False},
        "max_tokens": 77,
    }
    fake_openai.script(Replay(stream=STREAM))
    async with running.client() as http:
        answer = await http.post("/v1/chat/completions", headers=auth(running), json=body)
    assert answer.status_code == 200, answer.text
    sent = fake_openai.last_json
    assert {k: v for k, v in sent.items() if k not in HUB_SET} == {
        k: v for k, v in body.items() if k not in HUB_SET
    }
    assert (sent["model"], sent["stream"], sent["stream_options"], sent["max_tokens"]) == (
        "gpt-4o-mini",
        True,
        {"include_usage": True},
        77,
    )


async def test_chunks_pass_through_with_the_hub_id_and_the_alias(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Replay(stream=STREAM), Replay(stream=STREAM))
    messages = [{"role": "user", "content": "hi"}]
    async with openai.AsyncOpenAI(
        api_key=running.key.key, base_url=running.base_url + "/v1", max_retries=0
    ) as client:
        stream = await client.chat.completions.create(
            model="gpt",
            messages=messages,
            stream=True,  # type: ignore[arg-type]
        )
        without_usage = [c.model_dump(exclude_unset=True) async for c in stream]
        stream = await client.chat.completions.create(
            model="gpt",
            messages=messages,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
        with_usage = [c.model_dump(exclude_unset=True) async for c in stream]
    ids = {c["id"] for c in with_usage + without_usage}
    assert len(ids) == 2 and all(i.startswith("chatcmpl-") and i != "chatcmpl-up1" for i in ids)
    expected = [{**c, "id": with_usage[0]["id"], "model": "gpt"} for c in STREAM]
    assert with_usage == expected
    # Not asked for: no usage chunk and no `usage: null`, exactly as the upstream would send.
    assert without_usage == [
        {k: v for k, v in c.items() if k != "usage"} | {"id": without_usage[0]["id"]}
        for c in expected[:3]
    ]
    rows = await usage_rows(running.hub)
    assert [
        (r.prompt_tokens, r.completion_tokens, r.cached_tokens, r.reasoning_tokens) for r in rows
    ] == [(20, 5, 8, 2)] * 2
    # 12 x $1 + 8 x $1 (cached: the input price by default) + 5 x $2 per million.
    assert [r.cost_micros for r in rows] == [30, 30]


async def test_plain_response_is_assembled_with_every_field(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Replay(stream=STREAM))
    async with running.client() as http:
        answer = await http.post(
            "/v1/chat/completions",
            headers=auth(running),
            json={"model": "gpt", "messages": [{"role": "user", "content": "hi"}]},
        )
    body = answer.json()
    assert body == {
        "id": body["id"],
        "object": "chat.completion",
        "created": 1_760_000_000,
        "model": "gpt",
        "system_fingerprint": "fp_up",
        "service_tier": "default",
        "x_upstream": {"queue_ms": 3},
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }
    # The hub's request id and the alias, not the upstream's, in the upstream's order.
    assert body["id"].startswith("chatcmpl-") and body["id"] != "chatcmpl-up1"
    assert list(body)[:5] == ["id", "object", "created", "model", "choices"]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("status", "error", "hub_status", "hub_error"),
    [
        (
            400,
            {
                "message": "This model's maximum context length is 128000 tokens.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            },
            400,
            None,
        ),
        (
            422,
            {
                "message": "temperature: must be <= 2",
                "type": "invalid_request_error",
                "param": "temperature",
                "code": None,
            },
            422,
            None,
        ),
        (
            401,
            {
                "message": f"Incorrect API key provided: {UPSTREAM_KEY}",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            },
            502,
            "provider_auth_error",
        ),
        (
            500,
            {"message": "boom", "type": "server_error", "param": None, "code": None},
            503,
            "provider_unavailable",
        ),
    ],
)
async def test_upstream_errors_keep_their_status_streamed_or_not(
    running: RunningHub,
    fake_openai: FakeOpenAI,
    stream: bool,
    status: int,
    error: dict[str, Any],
    hub_status: int,
    hub_error: str | None,
) -> None:
    fake_openai.script(Replay(status=status, body={"error": error}))
    async with running.client() as http:
        answer = await http.post(
            "/v1/chat/completions",
            headers=auth(running),
            json={"model": "gpt", "stream": stream, "messages": [{"role": "user", "content": "x"}]},
        )
    assert answer.status_code == hub_status
    assert answer.headers["Content-Type"].startswith("application/json")
    got = answer.json()["error"]
    if hub_error is None:
        assert got == error  # the caller's mistake, in the upstream's words
    else:
        assert got["code"] == hub_error
    assert UPSTREAM_KEY not in answer.text and fake_openai.origin not in answer.text
    assert "127.0.0.1" not in answer.text


@pytest.mark.parametrize("stream", [False, True])
async def test_upstream_429_is_429_with_retry_after(
    running: RunningHub, fake_openai: FakeOpenAI, stream: bool
) -> None:
    fake_openai.script(
        Replay(
            status=429,
            headers={"retry-after-ms": "1500"},
            body={
                "error": {
                    "message": "Slow down",
                    "type": "requests",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            },
        )
    )
    async with running.client() as http:
        answer = await http.post(
            "/v1/chat/completions",
            headers=auth(running),
            json={"model": "gpt", "stream": stream, "messages": [{"role": "user", "content": "x"}]},
        )
    assert answer.status_code == 429
    assert (answer.headers["Retry-After"], answer.headers["retry-after-ms"]) == ("2", "1500")
    assert answer.json()["error"]["type"] == "rate_limit_error"


@pytest.mark.parametrize(
    "frame",
    [
        '{"id": "x", "choices": ["x"]}',
        '{"id": "x", "choices": [{"index": 0, "delta": "text"}]}',
        '{"id": "x", "choices": [], "usage": {"prompt_tokens": "lots"}}',
        "not json at all",
    ],
)
async def test_malformed_upstream_frames_are_a_provider_error(
    running: RunningHub, fake_openai: FakeOpenAI, frame: str
) -> None:
    fake_openai.script(Replay(raw_frames=(frame,)))
    async with running.client() as http:
        answer = await http.post(
            "/v1/chat/completions",
            headers=auth(running),
            json={"model": "gpt", "stream": True, "messages": [{"role": "user", "content": "x"}]},
        )
    assert answer.status_code == 502
    assert answer.json()["error"]["message"] == (
        "The model provider 'up' sent a malformed response. (model 'gpt', 1 attempts)"
    )
    (row,) = await usage_rows(running.hub)
    assert (row.status, row.error_code) == ("error", "provider_malformed_response")


async def test_usage_is_estimated_when_the_upstream_never_sends_it(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("twelve chars", usage=False))
    async with running.client() as http:
        answer = await http.post(
            "/v1/chat/completions",
            headers=auth(running),
            json={"model": "gpt", "messages": [{"role": "user", "content": "x"}]},
        )
    assert answer.status_code == 200
    (row,) = await usage_rows(running.hub)
    assert row.completion_tokens == 12 // 4 + 1 and row.prompt_tokens > 0


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "/v1/assistants", 404, None),
        ("POST", "/v1/responses", 404, None),
        ("GET", "/v1/chat/completions", 405, "POST"),
        ("DELETE", "/v1/models", 405, "GET"),
    ],
)
async def test_paths_and_methods_not_served_answer_openai_json(
    running: RunningHub, method: str, path: str, status: int, allow: str | None
) -> None:
    async with running.client() as http:
        answer = await http.request(method, path, headers=auth(running))
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    assert answer.headers.get("Allow") == allow


async def test_one_model_by_id(running: RunningHub) -> None:
    async with openai.AsyncOpenAI(
        api_key=running.key.key, base_url=running.base_url + "/v1", max_retries=0
    ) as client:
        model = await client.models.retrieve("gpt")
        with pytest.raises(openai.NotFoundError) as missing:
            await client.models.retrieve("nope")
    assert (model.id, model.object, model.owned_by) == ("gpt", "model", "unillm-hub")
    assert missing.value.body["code"] == "model_not_found"  # type: ignore[index]


@pytest.mark.parametrize(
    ("patch", "param"),
    [
        ({"max_tokens": 2**63}, "max_tokens"),
        ({"max_tokens": int("9" * 4000)}, "max_tokens"),
        ({"messages": [{"role": "user", "content": "nul \x00"}]}, "messages[0].content"),
        ({"max_tokens": True}, "max_tokens"),
        ({"n": True}, "n"),
        ({"stream": 1}, "stream"),
        ({"temperature": "hot"}, "temperature"),
        ({"messages": [{"role": 7, "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        (
            {"messages": [{"role": "user", "content": [{"type": "video"}]}]},
            "messages[0].content[0].type",
        ),
        ({"messages": [{"role": "user", "content": ["x"]}]}, "messages[0].content[0]"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
        ({"tools": [{"type": "function", "function": {"name": 3}}]}, "tools[0].function.name"),
    ],
)
async def test_bodies_of_the_wrong_shape_are_400_naming_the_field(
    running: RunningHub, fake_openai: FakeOpenAI, patch: dict[str, Any], param: str
) -> None:
    body = copy.deepcopy({"model": "gpt", "messages": [{"role": "user", "content": "x"}]})
    body.update(patch)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        answer = await http.post("/v1/chat/completions", headers=auth(running), json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param
    assert fake_openai.requests == []


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (b'{"model": "gpt", "max_tokens": ' + b"9" * 5000 + b', "messages": []}', "max_tokens"),
        (
            b'{"model": "gpt", "messages": [{"role": "user", "content": "\\ud800"}]}',
            "messages[0].content",
        ),
        (b'{"model": "gpt", "messages": ' + b"[" * 200 + b"]" * 200 + b"}", "body"),
    ],
)
async def test_hostile_bodies_are_400_naming_the_field(
    running: RunningHub, fake_openai: FakeOpenAI, raw: bytes, param: str
) -> None:
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        answer = await http.post(
            "/v1/chat/completions",
            headers={**auth(running), "Content-Type": "application/json"},
            content=raw,
        )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param
    assert fake_openai.requests == []
