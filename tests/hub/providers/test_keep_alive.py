"""An upstream connection is pooled, not closed, when the answer's end (`[DONE]`,
`message_stop`) comes before the chunked body's end, as a real provider often writes them:
the caller has its answer at once, and the connection waits off its path for the body's end.

The fake writes the final event, then ends the response only when the test opens `gate`; it
records each request's peer port (one per TCP connection) and marks a client gone mid-
response (aiohttp cancels the handler when its connection is lost)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from looptime import LoopTimeProxy

from hub.clock import FakeClock
from hub.config import DeploymentSettings, ProviderSettings
from hub.model import Caller, ChatChunk, ChatRequest, Message, Origin
from hub.providers.anthropic import AnthropicProvider
from hub.providers.openai import OpenAIProvider
from hub.providers.transport import ProviderTransport
from tests.support.hubs import free_port

OPENAI = (
    b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,'
    b'"delta":{"content":"Hi"},"finish_reason":null}]}\n\n'
    b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,'
    b'"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\n'
    b"data: [DONE]\n\n"
)
ANTHROPIC = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"m1",'
    b'"model":"claude","usage":{"input_tokens":3,"output_tokens":0}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"Hi"}}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
    b'"usage":{"output_tokens":1}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)


class SplitEnd:
    """Answers with the whole stream in one write, and the body's end only once `gate` opens."""

    def __init__(self) -> None:
        self.peers: list[int] = []
        self.gate = asyncio.Event()
        self.ended = 0  # responses whose end was written
        self.gone = asyncio.Event()  # a client closed its connection before the end
        self.port = free_port()
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/chat/completions", self._openai)
        app.router.add_post("/v1/messages", self._anthropic)
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(request, OPENAI)

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(request, ANTHROPIC)

    async def _answer(self, request: web.Request, events: bytes) -> web.StreamResponse:
        peer: Any = request.transport.get_extra_info("peername") if request.transport else None
        self.peers.append(peer[1])
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(events)
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.gone.set()
            raise
        await response.write_eof()
        self.ended += 1
        return response


@pytest.fixture
async def upstream() -> AsyncIterator[SplitEnd]:
    fake = SplitEnd()
    await fake.start()
    try:
        yield fake
    finally:
        fake.gate.set()
        await fake.close()


@pytest.fixture
async def transport(upstream: SplitEnd) -> AsyncIterator[ProviderTransport]:
    # One connection: a second request waits for the first's to be pooled, or opens its
    # own once the first's is closed (whichever the transport does, deterministically).
    made = ProviderTransport(settings(upstream, "openai"))
    try:
        yield made
    finally:
        await made.close()


def settings(upstream: SplitEnd, kind: str) -> ProviderSettings:
    return ProviderSettings(
        name="up",
        type=kind,
        base_url=f"http://127.0.0.1:{upstream.port}",
        api_key="k",
        timeout_s=10.0,
        max_connections=1,
    )


def chat() -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=1, team_name="acme"),
        origin=Origin(connector="test"),
        messages=(Message.text("user", "hi"),),
    )


def provider(
    upstream: SplitEnd, transport: ProviderTransport, kind: str
) -> OpenAIProvider | AnthropicProvider:
    made = settings(upstream, kind)
    if kind == "openai":
        return OpenAIProvider(made, transport, clock=FakeClock())
    return AnthropicProvider(made, transport, clock=FakeClock())


async def answer(p: OpenAIProvider | AnthropicProvider) -> list[ChatChunk]:
    deployment = DeploymentSettings(provider="up", model="m")
    return [chunk async for chunk in p.stream(deployment, chat(), max_tokens=50)]


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_an_answer_ended_before_its_body_reuses_its_connection(
    upstream: SplitEnd, transport: ProviderTransport, kind: str
) -> None:
    p = provider(upstream, transport, kind)
    first = await answer(p)
    assert "".join(c.text for c in first) == "Hi"
    assert first[-1].finish_reason == "stop"
    assert upstream.ended == 0  # the whole answer came before the body's end was written
    assert transport.in_flight.held == 0  # and its slot is free for the next
    upstream.gate.set()
    assert "".join(c.text for c in await answer(p)) == "Hi"
    assert len(upstream.peers) == 2
    assert len(set(upstream.peers)) == 1  # one TCP connection for both
    assert not upstream.gone.is_set()


async def test_a_caller_gone_mid_answer_closes_the_connection_at_once(
    upstream: SplitEnd, transport: ProviderTransport
) -> None:
    stream = provider(upstream, transport, "openai").stream(
        DeploymentSettings(provider="up", model="m"), chat(), max_tokens=50
    )
    assert (await anext(stream)).text == "Hi"
    await stream.aclose()  # before the end was seen: nothing is left to drain
    await upstream.gone.wait()
    assert upstream.ended == 0


async def test_the_transport_closing_closes_a_connection_waiting_for_its_end(
    upstream: SplitEnd, transport: ProviderTransport
) -> None:
    await answer(provider(upstream, transport, "openai"))
    await transport.close()
    await upstream.gone.wait()
    assert upstream.ended == 0


@pytest.mark.looptime
async def test_a_body_whose_end_never_comes_is_closed_after_a_second(
    upstream: SplitEnd, transport: ProviderTransport, looptime: LoopTimeProxy
) -> None:
    await answer(provider(upstream, transport, "openai"))
    start = float(looptime)
    await upstream.gone.wait()  # the loop idles until the drain's bound, then closes it
    assert 1.0 <= float(looptime) - start < 10.0  # the bound, not the read timeout
    assert upstream.ended == 0
