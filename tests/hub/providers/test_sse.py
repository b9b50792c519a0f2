"""SSE parsed per network read (#14.4): the same events however the bytes are split, and
every event one read completes handed on together."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from hub import fastjson
from hub.config import DeploymentSettings, ProviderSettings
from hub.model import Caller, ChatChunk, ChatRequest, Message, Origin
from hub.providers.openai import OpenAIProvider
from hub.providers.transport import ProviderTransport
from hub.providers.upstream import SseEvent, SseParser

STREAM = (
    b": keepalive\r\n\r\n"
    b"event: delta\r\ndata: one\r\ndata: two\r\n\r\n"
    b'data: {"a": 1}\n\n'
    b"id: 7\rdata:no-space\r\r"
    b"data: \xc3\xa9t\xc3\xa9\n\n"
    b"data: last without a blank line"
)
EVENTS = [
    SseEvent("delta", "one\ntwo"),
    SseEvent("message", '{"a": 1}'),
    SseEvent("message", "no-space"),
    SseEvent("message", "été"),
    SseEvent("message", "last without a blank line"),
]


def parse(*reads: bytes) -> list[SseEvent]:
    parser = SseParser()
    events = [e for read in reads for e in parser.feed(read)]
    return events + parser.close()


def test_the_three_line_endings_comments_and_a_last_event_without_its_blank_line() -> None:
    assert parse(STREAM) == EVENTS


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_split_gives_the_same_events(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    reads = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    assert parse(*reads) == EVENTS


def test_a_cr_at_the_end_of_a_read_waits_for_a_possible_lf() -> None:
    parser = SseParser()
    assert parser.feed(b"data: x\r") == []
    assert parser.feed(b"\n\r\n") == [SseEvent("message", "x")]


def chunk(text: str) -> bytes:
    return b'data: {"choices":[{"index":0,"delta":{"content":"' + text.encode() + b'"}}]}\n\n'


@asynccontextmanager
async def paused_upstream(before: bytes, after: bytes) -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A fake OpenAI-compatible upstream that streams `before` in one write, waits for the
    test's event, then writes `after`: its base URL and the event."""
    release = asyncio.Event()

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(before)
        await release.wait()
        await response.write(after)
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}/v1", release
    finally:
        await server.close()


def provider_stream(base_url: str) -> tuple[AsyncIterator[ChatChunk], ProviderTransport]:
    """A one-message chat request's stream from an OpenAI provider at `base_url`, and the
    transport to close."""
    settings = ProviderSettings(name="oa", type="openai", base_url=base_url)
    transport = ProviderTransport(settings)
    request = ChatRequest(
        caller=Caller(team_id=1, team_name="acme"),
        origin=Origin(connector="test"),
        messages=(Message.text("user", "hi"),),
    )
    deployment = DeploymentSettings(
        provider="oa", model="m", input_micros_per_mtok=0, output_micros_per_mtok=0
    )
    return OpenAIProvider(settings, transport).stream(
        deployment, request, max_tokens=None
    ), transport


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """Three chunks in one write, a pause the test ends, then the rest in another write."""
    async with paused_upstream(
        chunk("a") + chunk("b") + chunk("c"), chunk("d") + b"data: [DONE]\n\n"
    ) as served:
        yield served


async def test_chunks_that_arrive_together_say_that_more_follow(
    upstream: tuple[str, asyncio.Event],
) -> None:
    base_url, release = upstream
    stream, transport = provider_stream(base_url)
    try:
        first = [await anext(stream) for _ in range(3)]
        release.set()
        rest = [c async for c in stream]
    finally:
        await transport.close()
    assert [(c.text, c.more) for c in first] == [("a", True), ("b", True), ("c", False)]
    # "d" came with the end of the stream: the client gets it and [DONE] in one write.
    assert [(c.text, c.more) for c in rest] == [("d", True)]


def test_bytes_that_are_not_utf8_are_replaced_within_their_line() -> None:
    broken = b"data: a\xe2\x82\ndata: \xff\xc3\xa9\r\n\r\ndata: \xe2\x82\xac\n\n"
    expected = [SseEvent("message", "a\ufffd\n\ufffdé"), SseEvent("message", "€")]
    assert parse(broken) == expected
    assert parse(*(broken[i : i + 1] for i in range(len(broken)))) == expected


# Events of one `data: ` line each (most reads: read without a step per line), then the
# shapes that are not (read line by line), and blank lines to spare.
PLAIN = b'data: {"a":1}\n\ndata: \n\ndata: [DONE]\n\n'
MIXED = PLAIN + b"\n\n" + STREAM[:-25] + b"\n\n" + PLAIN


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.sampled_from([STREAM, PLAIN, MIXED]), st.lists(st.integers(0, len(MIXED)), max_size=10))
def test_data_gives_the_events_data_however_the_bytes_are_split(
    stream: bytes, cuts: list[int]
) -> None:
    points = sorted({c for c in cuts if c < len(stream)})
    reads = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    parser = SseParser()
    data = [d for read in reads for d in parser.data(read)]
    assert data + [e.data for e in parser.close()] == [e.data for e in parse(stream)]


BIG = b"12345678901234567890123"  # past 64 bits: orjson would read it as a float


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.integers(min_value=0, max_value=200), max_size=8), st.booleans())
def test_a_read_that_completes_an_event_with_19_digits_is_not_alike(
    cuts: list[int], multiline: bool
) -> None:
    """`alike` (orjson may read the read's events) is False for every read that completes
    an event holding a run of 19 digits, also when the digits' line came in an earlier read
    (an event of several data lines) or was split between reads."""
    big = b'data: {"x":\ndata: ' + BIG + b"}\n\n" if multiline else b'data: {"x":' + BIG + b"}\n\n"
    stream = b'data: {"a":1}\n\n' + big + b'data: {"b":2}\n\n'
    points = sorted({c for c in cuts if c < len(stream)})
    reads = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    parser = SseParser()
    for read in reads:
        data = parser.data(read)
        if any(BIG.decode() in item for item in data):
            assert not parser.alike
        elif data:
            assert all(json.loads(item) == fastjson.loads_alike(item) for item in data)


@pytest.fixture
async def big_number_upstream() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """An event of two data lines, the second a number past 64 bits, whose blank line comes
    in a later write than its lines."""
    async with paused_upstream(
        chunk("a") + b'data: {"choices":[],"x":\ndata: ' + BIG + b"}\n",
        b"\n" + chunk("b") + b"data: [DONE]\n\n",
    ) as served:
        yield served


async def test_a_number_past_64_bits_reaches_the_client_exact_across_reads(
    big_number_upstream: tuple[str, asyncio.Event],
) -> None:
    base_url, release = big_number_upstream
    stream, transport = provider_stream(base_url)
    try:
        first = await anext(stream)
        release.set()
        rest = [c async for c in stream]
    finally:
        await transport.close()
    assert first.text == "a"
    assert rest[0].wire is not None and rest[0].wire["x"] == int(BIG)
    assert type(rest[0].wire["x"]) is int
    assert [c.text for c in rest] == ["", "b"]
