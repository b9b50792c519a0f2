"""OpenAIProvider against the fake OpenAI-compatible server, over real HTTP."""

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
from hub.providers.openai import OpenAIProvider
from tests.fakes.openai_server import (
    FakeOpenAI,
    cut_after,
    error,
    mid_stream_error,
    reply,
    slow,
    stall,
)
from tests.hub.providers.digest import digest
from tests.hub.providers.pools import Pools

KEY = "sk-test-secret-4242"
DEPLOYMENT = DeploymentSettings(
    provider="oa", model="gpt-4o-mini", input_micros_per_mtok=150_000, output_micros_per_mtok=0
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


def provider(
    fake: FakeOpenAI, pools: Pools, *, api_key: str = KEY, timeout_s: float = 10.0
) -> OpenAIProvider:
    settings = ProviderSettings(
        name="oa", type="openai", base_url=fake.base_url, api_key=api_key, timeout_s=timeout_s
    )
    return OpenAIProvider(settings, pools(settings), clock=FakeClock())


def chat(*messages: Message, options: ChatOptions | None = None) -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=1, team_name="acme"),
        origin=Origin(connector="test"),
        messages=messages or (Message.text("user", "Say hello"),),
        options=options or ChatOptions(),
    )


async def run(p: OpenAIProvider, request: ChatRequest | None = None, **kw: str) -> list[ChatChunk]:
    return digest([c async for c in p.stream(DEPLOYMENT, request or chat(), max_tokens=50, **kw)])


async def failure(p: OpenAIProvider, seen: list[ChatChunk] | None = None) -> ProviderError:
    seen = [] if seen is None else seen
    with pytest.raises(ProviderError) as info:
        async for chunk in p.stream(DEPLOYMENT, chat(), max_tokens=50):
            seen.append(chunk)
    assert KEY not in str(info.value)
    assert KEY not in (info.value.detail or "")
    return info.value


async def test_streams_text_then_usage_from_the_usage_chunk(fake_openai, pools) -> None:
    fake_openai.script(reply("Hello there friend", prompt_tokens=12, completion_tokens=3))
    assert await run(provider(fake_openai, pools)) == [
        ChatChunk.delta("Hello "),
        ChatChunk.delta("there "),
        ChatChunk.delta("friend"),
        ChatChunk.delta(usage=Usage(prompt_tokens=12, completion_tokens=3), finish_reason="stop"),
    ]


async def test_request_body_and_headers(fake_openai, pools) -> None:
    request = chat(
        Message.text("system", "Be brief."),
        Message(
            role="user",
            content=(
                TextPart("What is this?"),
                ImagePart(media_type="image/png", data=b"\x89PNG"),
                ImagePart(media_type="image/jpeg", url="https://example.com/cat.jpg"),
            ),
        ),
        options=ChatOptions(temperature=0.2, top_p=0.9, stop=("END",)),
    )
    await run(provider(fake_openai, pools), request)
    assert fake_openai.last_json == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                ],
            },
        ],
        "max_tokens": 50,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["END"],
    }
    recorded = fake_openai.requests[-1]
    assert (recorded.method, recorded.path) == ("POST", "/v1/chat/completions")
    assert recorded.headers["authorization"] == f"Bearer {KEY}"


async def test_api_key_argument_overrides_and_no_key_sends_no_header(fake_openai, pools) -> None:
    await run(provider(fake_openai, pools), api_key="sk-team-own")
    await run(provider(fake_openai, pools, api_key=""))
    assert fake_openai.requests[0].headers["authorization"] == "Bearer sk-team-own"
    assert "authorization" not in fake_openai.requests[1].headers


async def test_sse_comments_and_keepalives_are_skipped(fake_openai, pools) -> None:
    fake_openai.script(reply("a b", prompt_tokens=4, completion_tokens=2, sse_comments=True))
    assert await run(provider(fake_openai, pools)) == [
        ChatChunk.delta("a "),
        ChatChunk.delta("b"),
        ChatChunk.delta(usage=Usage(prompt_tokens=4, completion_tokens=2), finish_reason="stop"),
    ]


async def test_no_usage_is_made_up_when_the_server_never_sends_it(fake_openai, pools) -> None:
    # The provider reports what the upstream said; the ledger estimates what it did not
    # (tests/connectors/openai_api: test_usage_is_estimated_when_the_upstream_never_sends_it).
    fake_openai.script(reply("twelve chars", usage=False, finish="length"))
    chunks = await run(provider(fake_openai, pools))
    assert chunks[-1] == ChatChunk.delta(finish_reason="length")


async def test_401_is_an_auth_error_without_the_key(fake_openai, pools) -> None:
    fake_openai.script(error(401, message=f"Incorrect API key provided: {KEY}."))
    exc = await failure(provider(fake_openai, pools))
    assert type(exc) is ProviderAuthError
    assert exc.user_message == (
        "The model provider 'oa' refused the hub's credentials; "
        "an operator needs to check its API key."
    )
    assert exc.detail == "oa: HTTP 401: invalid_request_error: Incorrect API key provided: ***."


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (403, ProviderAuthError),
        (404, ProviderBadRequest),
        (400, ProviderBadRequest),
        (422, ProviderBadRequest),
        (500, ProviderUnavailable),
        (503, ProviderUnavailable),
        (529, ProviderUnavailable),
    ],
)
async def test_status_mapping(fake_openai, pools, status: int, kind: type) -> None:
    fake_openai.script(error(status))
    assert type(await failure(provider(fake_openai, pools))) is kind


async def test_a_cookie_an_upstream_sets_rides_on_no_later_request(fake_openai, pools) -> None:
    # One session serves every team: a cookie set in answer to one team's request must not
    # go out with the next (another team's, on the same provider).
    fake_openai.script(error(503, headers={"Set-Cookie": "lb=team-a-node; Path=/"}), reply("Hello"))
    settings = ProviderSettings(
        name="oa",
        type="openai",
        # A host name: aiohttp's jar keeps no cookie of an IP address's at all.
        base_url=fake_openai.base_url.replace("127.0.0.1", "localhost"),
        api_key=KEY,
    )
    oa = OpenAIProvider(settings, pools(settings), clock=FakeClock())
    await failure(oa)
    assert await run(oa) == [
        ChatChunk.delta("Hello"),
        ChatChunk.delta(usage=Usage(prompt_tokens=10, completion_tokens=1), finish_reason="stop"),
    ]
    assert [r.headers.get("cookie") for r in fake_openai.requests] == [None, None]


async def test_404_names_the_missing_model(fake_openai, pools) -> None:
    fake_openai.script(error(404, message="The model `gpt-9` does not exist."))
    exc = await failure(provider(fake_openai, pools))
    assert exc.user_message == "The model provider 'oa' does not know the requested model."
    assert exc.detail == "oa: HTTP 404: invalid_request_error: The model `gpt-9` does not exist."


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry_after": 2}, 2.0),
        ({"retry_after_ms": 1500}, 1.5),
        ({"retry_after": "Sun, 15 Nov 2026 12:00:30 GMT"}, 30.0),  # FakeClock: 12:00:00
        ({}, None),
    ],
)
async def test_429_carries_retry_after(fake_openai, pools, headers, seconds) -> None:
    fake_openai.script(error(429, **headers))
    exc = await failure(provider(fake_openai, pools))
    assert type(exc) is ProviderRateLimited
    assert exc.retry_after == seconds
    wait = f"in {seconds:g} seconds" if seconds is not None else "in a moment"
    assert exc.user_message == (
        f"The model provider 'oa' is rate limiting the hub; try again {wait}."
    )


async def test_non_json_error_body_goes_to_detail_only(fake_openai, pools) -> None:
    fake_openai.script(error(502, body="<html>Bad Gateway</html>"))
    exc = await failure(provider(fake_openai, pools))
    assert type(exc) is ProviderUnavailable
    assert exc.user_message == (
        "The model provider 'oa' is unavailable right now; try again shortly."
    )
    assert exc.detail == "oa: HTTP 502: <html>Bad Gateway</html>"


async def test_timeout_is_unavailable(fake_openai, pools) -> None:
    fake_openai.script(stall())
    exc = await failure(provider(fake_openai, pools, timeout_s=0.2))
    assert type(exc) is ProviderUnavailable
    assert exc.user_message == "The model provider 'oa' did not answer in time; try again shortly."


async def test_connection_refused_is_unavailable(pools) -> None:
    async with FakeOpenAI() as gone:
        settings = ProviderSettings(name="oa", type="openai", base_url=gone.base_url)
    exc = await failure(OpenAIProvider(settings, pools(settings)))
    assert type(exc) is ProviderUnavailable
    assert exc.user_message == (
        "The hub could not reach the model provider 'oa'; try again shortly."
    )


@pytest.mark.parametrize(
    ("abort", "detail"),
    [
        (False, "oa: stream ended before [DONE]"),
        (
            True,
            'oa: connection lost: ClientPayloadError("Response payload is not completed: '
            "<TransferEncodingError: 400, message='Not enough data to satisfy transfer "
            "length header.'>\")",
        ),
    ],
)
async def test_cut_stream_is_interrupted(fake_openai, pools, abort: bool, detail: str) -> None:
    fake_openai.script(cut_after(2, "one two three four", abort=abort))
    seen: list[ChatChunk] = []
    exc = await failure(provider(fake_openai, pools), seen)
    assert digest(seen) == [ChatChunk.delta("one "), ChatChunk.delta("two ")]
    assert type(exc) is StreamInterrupted
    assert exc.user_message == (
        "The answer from the model provider 'oa' was cut off before it finished."
    )
    assert exc.detail == detail


async def test_mid_stream_error_payload_is_unavailable(fake_openai, pools) -> None:
    fake_openai.script(mid_stream_error(after=1, text="one two"))
    seen: list[ChatChunk] = []
    exc = await failure(provider(fake_openai, pools), seen)
    assert digest(seen) == [ChatChunk.delta("one ")]
    assert type(exc) is ProviderUnavailable
    assert exc.detail == (
        "oa: error in stream: server_error: The server had an error while processing your request."
    )


async def test_closing_early_closes_the_upstream_response(fake_openai, pools) -> None:
    fake_openai.script(reply("one two three", gate_after=1))
    stream = provider(fake_openai, pools).stream(DEPLOYMENT, chat(), max_tokens=50)
    assert digest([await anext(stream), await anext(stream)]) == [ChatChunk.delta("one ")]
    await asyncio.wait_for(fake_openai.at_gate.wait(), 5)
    await stream.aclose()
    await asyncio.wait_for(fake_openai.disconnected.wait(), 5)


async def test_fake_speaks_plain_json_and_models(fake_openai, http) -> None:
    fake_openai.script(reply("Hi there", prompt_tokens=3, completion_tokens=2))
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    plain = (await http.post(f"{fake_openai.base_url}/chat/completions", json=body)).json()
    assert (plain["object"], plain["choices"][0]["message"]["content"]) == (
        "chat.completion",
        "Hi there",
    )
    assert plain["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    models = (await http.get(f"{fake_openai.base_url}/models")).json()
    assert [m["id"] for m in models["data"]] == ["gpt-4o-mini", "gpt-4o"]


async def test_gate_holds_a_slow_stream_until_released(fake_openai, pools) -> None:
    fake_openai.script(slow("one two three", delay=0.01, gate_after=1))
    stream = provider(fake_openai, pools).stream(DEPLOYMENT, chat(), max_tokens=50)
    assert digest([await anext(stream), await anext(stream)]) == [ChatChunk.delta("one ")]
    await asyncio.wait_for(fake_openai.at_gate.wait(), 5)
    fake_openai.gate.set()
    rest = [chunk.text async for chunk in stream if chunk.text]
    assert rest == ["two ", "three"]
    assert not fake_openai.disconnected.is_set()
