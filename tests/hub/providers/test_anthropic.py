"""AnthropicProvider against the fake Messages API server, over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from hub.clock import FakeClock
from hub.config import DeploymentSettings, ProviderSettings
from hub.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
    StreamInterrupted,
)
from hub.model import (
    Caller,
    ChatChunk,
    ChatOptions,
    ChatRequest,
    ImagePart,
    Message,
    Origin,
    TextPart,
    Usage,
)
from hub.providers.anthropic import AnthropicProvider
from tests.fakes.anthropic_server import (
    FakeAnthropic,
    cut_after,
    error,
    mid_stream_error,
    reply,
    stall,
)
from tests.hub.providers.digest import digest
from tests.hub.providers.pools import Pools

KEY = "sk-ant-test-secret-4242"
DEPLOYMENT = DeploymentSettings(
    provider="claude",
    model="claude-sonnet-4-5",
    input_micros_per_mtok=3_000_000,
    output_micros_per_mtok=15_000_000,
)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
async def pools() -> AsyncIterator[Pools]:
    made = Pools()
    try:
        yield made
    finally:
        await made.close()


def provider(fake: FakeAnthropic, pools: Pools, *, timeout_s: float = 10.0) -> AnthropicProvider:
    settings = ProviderSettings(
        name="claude",
        type="anthropic",
        base_url=fake.base_url,
        api_key=KEY,
        timeout_s=timeout_s,
        anthropic_version="2023-06-01",
    )
    return AnthropicProvider(settings, pools(settings), clock=FakeClock())


def chat(*messages: Message, options: ChatOptions | None = None) -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=1, team_name="acme"),
        origin=Origin(connector="test"),
        messages=messages or (Message.text("user", "Say hello"),),
        options=options or ChatOptions(),
    )


async def run(p: AnthropicProvider, request: ChatRequest | None = None) -> list[ChatChunk]:
    return digest([c async for c in p.stream(DEPLOYMENT, request or chat(), max_tokens=64)])


async def failure(p: AnthropicProvider, seen: list[ChatChunk] | None = None) -> ProviderError:
    seen = [] if seen is None else seen
    with pytest.raises(ProviderError) as info:
        async for chunk in p.stream(DEPLOYMENT, chat(), max_tokens=64):
            seen.append(chunk)
    assert KEY not in str(info.value)
    assert KEY not in (info.value.detail or "")
    return info.value


async def test_streams_text_and_cumulative_usage(fake_anthropic, pools) -> None:
    # message_start says output_tokens=1, message_delta says 15: the total is 15, not 16.
    fake_anthropic.script(
        reply("Hello there", prompt_tokens=25, completion_tokens=15, start_output_tokens=1)
    )
    assert await run(provider(fake_anthropic, pools)) == [
        ChatChunk.delta("Hello "),
        ChatChunk.delta("there"),
        ChatChunk.delta(usage=Usage(prompt_tokens=25, completion_tokens=15), finish_reason="stop"),
    ]


async def test_message_start_names_the_response_id_and_model(fake_anthropic, pools) -> None:
    fake_anthropic.script(reply("Hi"))
    chunks = [
        c async for c in provider(fake_anthropic, pools).stream(DEPLOYMENT, chat(), max_tokens=8)
    ]
    assert chunks[0].response_names == ("msg_fake0001", "claude-sonnet-4-5")  # gen_ai.response.*
    assert all(c.response_names == (None, None) for c in chunks[1:])


async def test_input_tokens_in_message_delta_replace_not_add(fake_anthropic, pools) -> None:
    fake_anthropic.script(
        reply("Hi", prompt_tokens=40, completion_tokens=7, delta_input_tokens=True, finish="length")
    )
    chunks = await run(provider(fake_anthropic, pools))
    assert chunks[-1] == ChatChunk.delta(
        usage=Usage(prompt_tokens=40, completion_tokens=7), finish_reason="length"
    )


async def test_request_body_maps_system_merges_roles_and_images(fake_anthropic, pools) -> None:
    request = chat(
        Message.text("system", "Be brief."),
        Message.text("system", "Answer in French."),
        Message.text("user", "Look:"),
        Message(
            role="user",
            content=(
                ImagePart(media_type="image/png", data=b"\x89PNG"),
                ImagePart(media_type="image/jpeg", url="https://example.com/cat.jpg"),
                TextPart("What is it?"),
            ),
        ),
        Message.text("assistant", "Un chat."),
        options=ChatOptions(temperature=0.5, top_p=0.8, stop=("FIN",)),
    )
    await run(provider(fake_anthropic, pools), request)
    assert fake_anthropic.last_json == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "system": "Be brief.\n\nAnswer in French.",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Look:"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw=="},
                    },
                    {
                        "type": "image",
                        "source": {"type": "url", "url": "https://example.com/cat.jpg"},
                    },
                    {"type": "text", "text": "What is it?"},
                ],
            },
            {"role": "assistant", "content": [{"type": "text", "text": "Un chat."}]},
        ],
        "stream": True,
        "temperature": 0.5,
        "top_p": 0.8,
        "stop_sequences": ["FIN"],
    }
    headers = fake_anthropic.requests[-1].headers
    assert (headers["x-api-key"], headers["anthropic-version"]) == (KEY, "2023-06-01")
    assert "authorization" not in headers


async def test_sse_comments_are_skipped(fake_anthropic, pools) -> None:
    fake_anthropic.script(reply("a b", prompt_tokens=3, completion_tokens=2, sse_comments=True))
    assert await run(provider(fake_anthropic, pools)) == [
        ChatChunk.delta("a "),
        ChatChunk.delta("b"),
        ChatChunk.delta(usage=Usage(prompt_tokens=3, completion_tokens=2), finish_reason="stop"),
    ]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (400, ProviderBadRequest),
        (404, ProviderBadRequest),
        (500, ProviderUnavailable),
        (529, ProviderUnavailable),
    ],
)
async def test_status_mapping(fake_anthropic, pools, status: int, kind: type) -> None:
    fake_anthropic.script(error(status, message=f"bad key {KEY}"))
    exc = await failure(provider(fake_anthropic, pools))
    assert type(exc) is kind


async def test_529_overloaded(fake_anthropic, pools) -> None:
    fake_anthropic.script(error(529, message="Overloaded"))
    exc = await failure(provider(fake_anthropic, pools))
    assert exc.user_message == (
        "The model provider 'claude' is unavailable right now; try again shortly."
    )
    assert exc.detail == "claude: HTTP 529: overloaded_error: Overloaded"


async def test_429_carries_retry_after(fake_anthropic, pools) -> None:
    fake_anthropic.script(error(429, retry_after=7))
    exc = await failure(provider(fake_anthropic, pools))
    assert type(exc) is ProviderRateLimited
    assert exc.retry_after == 7.0
    assert exc.user_message == (
        "The model provider 'claude' is rate limiting the hub; try again in 7 seconds."
    )


async def test_timeout_is_unavailable(fake_anthropic, pools) -> None:
    fake_anthropic.script(stall())
    exc = await failure(provider(fake_anthropic, pools, timeout_s=0.2))
    assert type(exc) is ProviderUnavailable


async def test_overloaded_error_event_mid_stream(fake_anthropic, pools) -> None:
    fake_anthropic.script(mid_stream_error(after=1, text="one two"))
    seen: list[ChatChunk] = []
    exc = await failure(provider(fake_anthropic, pools), seen)
    assert digest(seen) == [ChatChunk.delta("one ")]
    assert type(exc) is ProviderUnavailable
    assert exc.detail == "claude: error in stream: overloaded_error: Overloaded"


async def test_rate_limit_error_event_mid_stream(fake_anthropic, pools) -> None:
    fake_anthropic.script(mid_stream_error(after=0, error_type="rate_limit_error"))
    assert type(await failure(provider(fake_anthropic, pools))) is ProviderRateLimited


@pytest.mark.parametrize("abort", [False, True])
async def test_cut_stream_is_interrupted(fake_anthropic, pools, abort: bool) -> None:
    fake_anthropic.script(cut_after(1, "one two three", abort=abort))
    seen: list[ChatChunk] = []
    exc = await failure(provider(fake_anthropic, pools), seen)
    assert digest(seen) == [ChatChunk.delta("one ")]
    assert type(exc) is StreamInterrupted
    assert exc.user_message == (
        "The answer from the model provider 'claude' was cut off before it finished."
    )


async def test_closing_early_closes_the_upstream_response(fake_anthropic, pools) -> None:
    fake_anthropic.script(reply("one two three", gate_after=1))
    stream = provider(fake_anthropic, pools).stream(DEPLOYMENT, chat(), max_tokens=64)
    assert digest([await anext(stream), await anext(stream)]) == [ChatChunk.delta("one ")]
    await asyncio.wait_for(fake_anthropic.at_gate.wait(), 5)
    await stream.aclose()
    await asyncio.wait_for(fake_anthropic.disconnected.wait(), 5)


async def test_fake_speaks_plain_json(fake_anthropic, http) -> None:
    fake_anthropic.script(reply("Hi there", prompt_tokens=5, completion_tokens=2))
    body = {"model": "claude-haiku-4-5", "max_tokens": 10, "messages": []}
    plain = (await http.post(f"{fake_anthropic.base_url}/v1/messages", json=body)).json()
    assert plain == {
        "id": "msg_fake0001",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": "Hi there"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 2},
    }
