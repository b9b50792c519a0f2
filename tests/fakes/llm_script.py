"""What the fake LLM servers share: scripted behaviours, request records, the server lifecycle.

A test queues behaviours with `fake.script(...)`; each request takes the next one, and once
the queue is empty every request gets `fake.default`. Behaviours are plain values:

    reply("Hello there", prompt_tokens=12, completion_tokens=3)
    error(429, retry_after=2)              # or retry_after="Wed, 21 Oct 2026 07:28:00 GMT"
    cut_after(2, "one two three")          # ends the stream after 2 deltas, no end marker
    cut_after(2, "one two three", abort=True)   # drops the TCP connection instead
    mid_stream_error(after=1)              # an error payload inside the stream
    slow("a b c", delay=0.05)              # real sleep before each delta
    reply("a b c", gate_after=1)           # park after 1 delta until `fake.gate.set()`
    reply("a b c", honour_max_tokens=True) # stop at the request's max_tokens, as models do
    reply("a b", ping_every=0.05, ping_after=1)  # one delta, then keep-alive comments forever
    stall()                                # send nothing (not even headers) until the gate opens
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Self

from aiohttp import web
from aiohttp.test_utils import TestServer

from hub.clock import FakeClock


@dataclass(frozen=True)
class Reply:
    text: str = "Hello from the fake server."
    # Deltas sent one per event; by default the text split after each space.
    chunks: tuple[str, ...] | None = None
    prompt_tokens: int = 10
    completion_tokens: int | None = None  # None: the number of deltas
    finish: str = "stop"  # "stop" or "length"; each fake spells it in its own wire format
    usage: bool = True  # False: the stream never reports usage
    sse_comments: bool = False  # interleave `: keep-alive` comments and blank keepalives
    delay: float = 0.0  # real seconds to sleep before each delta
    gate_after: int | None = None  # after N deltas wait for `fake.gate`
    cut_after: int | None = None  # after N deltas stop without the end marker
    abort: bool = False  # with cut_after: drop the connection instead of ending cleanly
    error_after: int | None = None  # after N deltas send an error event and stop
    error_type: str | None = None  # the error type of that event (wire-specific default)
    stall: bool = False  # wait for `fake.gate` before sending any header
    # Stop at the request's max_tokens / max_completion_tokens as a real model does (finish
    # "length", usage counting what was sent); False: ignore the limit, as a broken one would.
    honour_max_tokens: bool = False
    # After `ping_after` deltas, send only `: ping` comments, every `ping_every` real seconds,
    # until the client leaves (an upstream that keeps a request open forever).
    ping_every: float | None = None
    ping_after: int = 0
    # Anthropic only: output_tokens reported in message_start (message_delta has the total).
    start_output_tokens: int = 1
    # Anthropic only: message_delta also states input_tokens (newer API versions do).
    delta_input_tokens: bool = False
    # Cache reads and writes and reasoning, each in its wire's own convention. OpenAI: cached
    # tokens are part of prompt_tokens (prompt_tokens_details.cached_tokens), reasoning part of
    # completion_tokens (completion_tokens_details.reasoning_tokens). Anthropic: prompt_tokens
    # is input_tokens, which leaves out cache_read_input_tokens and cache_creation_input_tokens.
    cached_tokens: int = 0
    cache_write_tokens: int = 0  # Anthropic only
    reasoning_tokens: int = 0  # OpenAI only

    def deltas(self) -> tuple[str, ...]:
        if self.chunks is not None:
            return self.chunks
        words = self.text.split(" ")
        return tuple(w if i == len(words) - 1 else w + " " for i, w in enumerate(words) if w)

    def within(self, limit: Any) -> Reply:
        """This reply as a model honouring `limit` (the request's token limit) answers it."""
        deltas = self.deltas()
        if not self.honour_max_tokens or not isinstance(limit, int) or len(deltas) <= limit:
            return self
        return replace(self, chunks=deltas[:limit], completion_tokens=limit, finish="length")

    def output_tokens(self) -> int:
        if self.completion_tokens is not None:
            return self.completion_tokens
        return len(self.deltas())


@dataclass(frozen=True)
class ErrorReply:
    status: int
    message: str = "Scripted failure."
    error_type: str | None = None  # wire-specific default from the status
    retry_after: float | str | None = None  # Retry-After header: seconds or an HTTP date
    retry_after_ms: float | None = None  # retry-after-ms header (OpenAI)
    body: str | None = None  # raw body instead of the JSON error envelope
    headers: dict[str, str] = field(default_factory=dict)

    def response_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.retry_after is not None:
            value = self.retry_after
            headers["Retry-After"] = f"{value:g}" if isinstance(value, float | int) else value
        if self.retry_after_ms is not None:
            headers["retry-after-ms"] = f"{self.retry_after_ms:g}"
        return headers


@dataclass(frozen=True)
class Replay:
    """A recorded exchange played back as it was (tests/conformance/cases/*.json).

    OpenAI: `stream` holds the chunk objects as sent with `include_usage` (the fake leaves
    the usage out when a client did not ask for it), `response` the plain JSON answer.
    Anthropic: `stream` holds (event, data) pairs. `status` >= 400: `body` and `headers`.
    """

    stream: tuple[Any, ...] = ()
    response: Any = None
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    done: bool = True  # OpenAI: end with `data: [DONE]`
    raw_frames: tuple[str, ...] = ()  # data lines sent as they are (malformed frames)


Behaviour = Reply | ErrorReply | Replay


def reply(text: str = Reply.text, **options: Any) -> Reply:
    return Reply(text=text, **options)


def error(status: int, **options: Any) -> ErrorReply:
    return ErrorReply(status=status, **options)


def cut_after(n_chunks: int, text: str = "one two three four", **options: Any) -> Reply:
    return Reply(text=text, cut_after=n_chunks, **options)


def mid_stream_error(after: int = 1, text: str = "one two three", **options: Any) -> Reply:
    return Reply(text=text, error_after=after, **options)


def slow(text: str = Reply.text, *, delay: float = 0.05, **options: Any) -> Reply:
    return Reply(text=text, delay=delay, **options)


def stall(**options: Any) -> Reply:
    return Reply(stall=True, **options)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    json: Any


class FakeLLMServer:
    """A real aiohttp server on 127.0.0.1 with a random port; subclasses add the routes."""

    def __init__(self, *, default: Reply | None = None, api_key: str | None = None) -> None:
        self.default: Behaviour = default or Reply()
        self.api_key = api_key  # when set, other keys get 401 in the wire format
        self.requests: list[RecordedRequest] = []
        self.gate = asyncio.Event()  # scripted streams park here; the test sets it
        self.at_gate = asyncio.Event()  # set when a stream is parked at the gate
        self.disconnected = asyncio.Event()  # set when a client went away mid-response
        self.aborted = False  # a scripted abort dropped a connection on purpose
        self._queue: deque[Behaviour] = deque()
        self._closing = asyncio.Event()
        self._changed = asyncio.Condition()  # notified on each request and each parked stream
        self.parked = 0  # streams waiting at the gate now
        self._server: TestServer | None = None
        # Per upstream model (routing tests): what it does once the queue is empty, and how
        # long each request takes on `clock` (the hub's FakeClock, advanced, never slept).
        self.by_model: dict[str, Behaviour] = {}
        self.latency: dict[str, float] = {}
        self.clock: FakeClock | None = None
        # Behaviour chosen from the request body (property tests: many concurrent requests,
        # each scripted by a marker it carries); None falls back to the queue.
        self.chooser: Callable[[Any], Behaviour | None] | None = None

    # -- scripting ------------------------------------------------------------------------

    def script(self, *behaviours: Behaviour) -> None:
        self._queue.extend(behaviours)

    def next_behaviour(self, model: str | None = None) -> Behaviour:
        if self._queue:
            return self._queue.popleft()
        return self.by_model.get(model or "", self.default)

    def elapse(self, model: str | None) -> None:
        """Let the scripted latency of `model` pass on the hub's fake clock."""
        if self.clock is not None and model in self.latency:
            self.clock.advance(self.latency[model])

    def models_called(self) -> list[str]:
        return [r.json.get("model", "") for r in self.requests if isinstance(r.json, dict)]

    @property
    def last_json(self) -> Any:
        return self.requests[-1].json

    # -- lifecycle ------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    @property
    def origin(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.port}"

    async def start(self) -> None:
        app = web.Application()
        app.add_routes(self.routes())
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server(shutdown_timeout=1.0)

    async def close(self) -> None:
        self._closing.set()
        if self._server is not None:
            await self._server.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- helpers for handlers -------------------------------------------------------------

    async def record(self, request: web.Request) -> RecordedRequest:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            json=body,
        )
        self.requests.append(recorded)
        await self._notify()
        return recorded

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, check: Callable[[], bool]) -> None:
        """Return once `check()` holds; it is looked at again on each request and each
        stream that parks at the gate (no polling)."""
        async with self._changed:
            await self._changed.wait_for(check)

    async def wait_requests(self, count: int, path: str | None = None) -> None:
        """Until `count` requests (to `path`, when given) have arrived."""
        await self.wait_until(
            lambda: sum(path is None or r.path == path for r in self.requests) >= count
        )

    async def wait_gate(self) -> bool:
        """Wait for the gate (or shutdown); False means the server is closing."""
        self.at_gate.set()
        self.parked += 1
        await self._notify()
        gate = asyncio.ensure_future(self.gate.wait())
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({gate, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.parked -= 1
            for task in (gate, closing):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return not self._closing.is_set()

    async def pace(self, behaviour: Reply, sent: int) -> bool:
        """Before the delta numbered `sent`: sleep or wait at the gate; False means stop."""
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        if behaviour.gate_after is not None and sent == behaviour.gate_after:
            return await self.wait_gate()
        return True


class StreamGuard:
    """Marks `fake.disconnected` when a streaming handler is cancelled or its write fails."""

    def __init__(self, fake: FakeLLMServer) -> None:
        self._fake = fake

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if self._fake.aborted:
            return
        if exc_type is not None and issubclass(exc_type, asyncio.CancelledError | ConnectionError):
            self._fake.disconnected.set()


async def cut(
    fake: FakeLLMServer, request: web.Request, response: web.StreamResponse, behaviour: Reply
) -> web.StreamResponse:
    """End a stream early: cleanly without the end marker, or by dropping the connection."""
    if behaviour.abort and request.transport is not None:
        fake.aborted = True
        request.transport.abort()
        raise asyncio.CancelledError
    return response
