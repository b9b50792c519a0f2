"""A provider's `timeout_s` bounds the wait for every network read of a response (its
headers, each read of a stream, a plain JSON body, an error body) from the last data received,
with the error aiohttp's own `sock_read` timeout gives, now that its timer is re-armed lazily
(hub/providers/read_timeout.py).

On looptime's loop clock, against a real aiohttp server on 127.0.0.1 in the same loop that
goes silent (a sleep on the same clock): no real waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from looptime import LoopTimeProxy

from hub.clock import FakeClock
from hub.config import DeploymentSettings, ProviderSettings
from hub.errors import ProviderError, ProviderUnavailable
from hub.model import Caller, ChatRequest, Message, Origin
from hub.providers.openai import OpenAIProvider
from hub.providers.transport import ProviderTransport
from tests.support.hubs import free_port

pytestmark = pytest.mark.looptime

TIMEOUT_S = 5.0
SILENT_S = 1000.0
CHUNK = (
    b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,'
    b'"delta":{"content":"Hi"},"finish_reason":null}]}\n\n'
)
TIMED_OUT = "up: timed out: SocketTimeoutError('Timeout on reading data from socket')"


async def _headers_never(request: web.Request) -> web.StreamResponse:
    await request.read()
    await asyncio.sleep(SILENT_S)
    return web.Response()


async def _chunks_then_silence(request: web.Request) -> web.StreamResponse:
    await request.read()
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for _ in range(3):  # data at 0, 3 and 6 s: the bound runs from the last, to 11 s
        await response.write(CHUNK)
        await asyncio.sleep(3)
    await asyncio.sleep(SILENT_S)
    return response


async def _body_then_silence(request: web.Request) -> web.StreamResponse:
    await request.read()
    status = 500 if request.path.endswith("/failing") else 200
    response = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
    response.content_length = 100
    await response.prepare(request)
    await response.write(b'{"data": [')
    await asyncio.sleep(SILENT_S)
    return response


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/headers/chat/completions", _headers_never)
    app.router.add_post("/stream/chat/completions", _chunks_then_silence)
    app.router.add_post("/embeddings", _body_then_silence)
    app.router.add_post("/embeddings/failing", _body_then_silence)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def make(base_url: str) -> AsyncIterator[list[ProviderTransport]]:
    made: list[ProviderTransport] = []
    try:
        yield made
    finally:
        for transport in made:
            await transport.close()


def provider(url: str, made: list[ProviderTransport]) -> OpenAIProvider:
    settings = ProviderSettings(
        name="up", type="openai", base_url=url, api_key="sk-read-timeout-test", timeout_s=TIMEOUT_S
    )
    transport = ProviderTransport(settings)
    made.append(transport)
    return OpenAIProvider(settings, transport, clock=FakeClock())


def chat() -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=1, team_name="acme"),
        origin=Origin(connector="test"),
        messages=(Message.text("user", "hi"),),
    )


async def streamed(p: OpenAIProvider, seen: list[str]) -> ProviderError:
    deployment = DeploymentSettings(provider="up", model="m")
    with pytest.raises(ProviderError) as info:
        async for chunk in p.stream(deployment, chat(), max_tokens=5):
            seen.append(chunk.text)
    return info.value


async def test_headers_that_never_come_time_out_after_timeout_s(
    base_url: str, make: list[ProviderTransport], looptime: LoopTimeProxy
) -> None:
    start = float(looptime)
    exc = await streamed(provider(f"{base_url}/headers", make), [])
    assert type(exc) is ProviderUnavailable
    assert exc.detail == TIMED_OUT
    assert float(looptime) - start == pytest.approx(TIMEOUT_S, abs=0.01)


async def test_a_stream_gone_silent_times_out_timeout_s_after_its_last_data(
    base_url: str, make: list[ProviderTransport], looptime: LoopTimeProxy
) -> None:
    start = float(looptime)
    seen: list[str] = []
    exc = await streamed(provider(f"{base_url}/stream", make), seen)
    assert seen == ["Hi", "Hi", "Hi"]  # reads 3 s apart never hit the 5 s bound
    assert type(exc) is ProviderUnavailable  # a timeout, not a cut: what aiohttp's gave
    assert exc.detail == TIMED_OUT
    assert float(looptime) - start == pytest.approx(6 + TIMEOUT_S, abs=0.01)


@pytest.mark.parametrize("path", ["/embeddings", "/embeddings/failing"])
async def test_a_body_gone_silent_times_out_after_timeout_s(
    base_url: str, make: list[ProviderTransport], looptime: LoopTimeProxy, path: str
) -> None:
    p = provider(base_url, make)
    start = float(looptime)
    with pytest.raises(ProviderError) as info:
        await p.post_json(path, {})
    assert type(info.value) is ProviderUnavailable
    assert info.value.detail == TIMED_OUT
    assert float(looptime) - start == pytest.approx(TIMEOUT_S, abs=0.01)


async def test_the_lazy_timer_is_used_only_where_aiohttp_has_what_it_overrides() -> None:
    """The installed aiohttp fits (the bounds above are the lazy timer's); a protocol without
    the private names the lazy timer relies on does not, so the pool keeps aiohttp's own."""
    from aiohttp.client_proto import ResponseHandler

    from hub.providers.read_timeout import LazyReadTimeout, connector, fits

    loop = asyncio.get_running_loop()
    assert fits(ResponseHandler, ResponseHandler(loop=loop))

    class Renamed(ResponseHandler):
        _on_read_timeout = None  # type: ignore[assignment]  # as if aiohttp renamed it

    assert not fits(Renamed, Renamed(loop=loop))
    made = connector(4)
    try:
        assert isinstance(made._factory(), LazyReadTimeout)
    finally:
        await made.close()
