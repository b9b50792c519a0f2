"""One provider's HTTP: its own aiohttp session and connection pool, and its in-flight limit.

Each `[providers.<name>]` gets a pool of `max_connections` and at most `max_in_flight`
requests at once, so a provider that stalls holds only its own connections and slots: a
request to another provider never waits behind it (#13.4). A request over the limit waits
`in_flight_wait_s` for a slot, then fails with `ProviderBusy`, which the router takes as
"try the next deployment" (and a 503 with Retry-After when there is none).

aiohttp's client, not httpx, on the request path: it costs a fraction of the CPU per request
(#14.4). The session is made on first use, inside the running event loop it belongs to.

The proxy (HTTPS_PROXY, NO_PROXY and friends, as httpx honoured them) is looked up once per
upstream origin, not per request: aiohttp's `trust_env` reads the environment and ~/.netrc
on a worker thread for every request, two thread hand-offs on the hot path. (A provider's
own `Authorization` header already ruled out netrc credentials for the upstream host.) The
proxy's credentials go as the Proxy-Authorization header aiohttp would write from them: on
the request itself for a plain-HTTP upstream, on the tunnel's CONNECT for an HTTPS one
(aiohttp's `proxy_auth` argument warned on every request and goes in aiohttp 4).

A response whose answer ended (`[DONE]`, `message_stop`) before its body did is left to
finish its body off the caller's path (`_Draining`): a provider often writes its last event
and the chunked body's end in separate writes, and aiohttp closes a connection released
before the body's end instead of pooling it, so every such request paid a new TCP (and TLS)
connection on the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from types import TracebackType

import aiohttp
from aiohttp import hdrs
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from hub.config import ProviderSettings
from hub.errors import ProviderBusy
from hub.observability.tracing import inject_trace_context
from hub.providers.read_timeout import connector

_URLS_KEPT = 64
# How long an answered response's connection may wait for its body's end before it is closed
# rather than pooled: the end follows the last event at once from a sound server.
_DRAIN_S = 1.0


class InFlight:
    """At most `limit` holders at once; `acquire` waits at most `wait_s` for a turn.

    A count and a queue of waiters rather than an `asyncio.Semaphore`: a free slot is taken
    without a call (the semaphore's `locked()` and `acquire()` walked its waiters twice per
    request), and a slot given up goes straight to the longest waiter, so a newcomer never
    takes it from one already waiting."""

    def __init__(self, limit: int, wait_s: float) -> None:
        self.limit = limit
        self._wait_s = wait_s
        self.held = 0  # slots taken, a waiter handed one included
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> bool:
        if self.held < self.limit and not self._waiters:
            self.held += 1
            return True
        if self._wait_s <= 0:
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self._wait_s):
                await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot as the wait ended: the next one's
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                return False
            raise
        return True

    def release(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():  # (a cancelled wait leaves it done)
                waiter.set_result(None)  # the slot goes to it as it is: still held
                return
        self.held -= 1


class ProviderTransport:
    def __init__(self, settings: ProviderSettings) -> None:
        self._settings = settings
        self.in_flight = InFlight(settings.in_flight_limit, settings.in_flight_wait_s)
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, tuple[URL | None, aiohttp.BasicAuth | None]] = {}
        self._by_url: dict[str, _Target] = {}
        self._draining: set[_Draining] = set()
        # Per operation, as httpx's single timeout was: connecting (including waiting for a
        # pooled connection) and each read; a long stream that keeps talking is fine.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=settings.timeout_s, sock_read=settings.timeout_s
        )

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                # aiohttp's protocol, its per-read timer set lazily (hub/providers/read_timeout.py)
                connector=connector(self._settings.max_connections),
                timeout=self._timeout,
                raise_for_status=False,
                # No cookies kept: one session serves every team, so a cookie an upstream
                # set for one request must not ride on another's (and the jar's filtering
                # was 0.4% of a request's CPU).
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    def _target(self, url: str) -> _Target:
        """`url` parsed, with the environment's proxy for its origin (looked up once per
        origin); kept by the URL as given too, so a provider's one URL is not parsed again
        for every request (yarl's parse was 0.4% of a request's CPU)."""
        parsed = URL(url)
        origin = f"{parsed.scheme}://{parsed.host}:{parsed.port}"
        found = self._proxies.get(origin)
        if found is None:
            try:
                found = get_env_proxy_for_url(parsed)
            except LookupError:  # none set, or NO_PROXY names the host
                found = (None, None)
            self._proxies[origin] = found
        proxy, auth = found
        target = _Target(parsed, proxy, None if auth is None else auth.encode())
        if len(self._by_url) < _URLS_KEPT:  # a provider posts to a few paths, not many
            self._by_url[url] = target
        return target

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Posted:
        """POST `body` (JSON) and hold the response open for reading, in `async with`; the
        in-flight slot is held until the block ends."""
        return Posted(self, url, body, headers)

    def _busy(self) -> ProviderBusy:
        wait = max(1.0, self._settings.in_flight_wait_s)
        return ProviderBusy(
            f"The model provider '{self._settings.name}' is at the hub's limit of "
            f"{self.in_flight.limit} requests at once; try again shortly.",
            detail=f"{self._settings.name}: {self.in_flight.limit} requests in flight",
            retry_after=wait,
        )

    def _send(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> AbstractAsyncContextManager[aiohttp.ClientResponse]:
        target = self._by_url.get(url) or self._target(url)
        sent = {"Content-Type": "application/json", **headers}
        inject_trace_context(sent)
        if target.proxy is None:
            return self._client().post(target.url, data=body, headers=sent)
        tunnel = None
        if target.proxy_authorization is not None:
            if target.url.scheme == "https":  # a fresh dict: aiohttp adds the Host to it
                tunnel = {hdrs.PROXY_AUTHORIZATION: target.proxy_authorization}
            else:  # the request goes to the proxy itself
                sent[hdrs.PROXY_AUTHORIZATION] = target.proxy_authorization
        return self._client().post(
            target.url, data=body, headers=sent, proxy=target.proxy, proxy_headers=tunnel
        )

    def _drain(self, response: aiohttp.ClientResponse) -> None:
        """`response`'s answer is whole but its body's end has not come: left to aiohttp,
        which pools the connection at the body's end, for at most `_DRAIN_S`."""
        draining = _Draining(self._draining, response)
        self._draining.add(draining)
        draining.timer = asyncio.get_running_loop().call_later(
            min(_DRAIN_S, self._settings.timeout_s), draining.close
        )
        response.content.on_eof(draining.ended)  # after aiohttp's own, which pools it

    async def close(self) -> None:
        for draining in list(self._draining):
            draining.close()
        if self._session is not None:
            await self._session.close()
            self._session = None


class _Draining:
    """One answered response waiting for its body's end: pooled by aiohttp when it comes
    (this only forgets it), closed if the timer fires first or the transport closes."""

    __slots__ = ("_held", "_response", "timer")

    def __init__(self, held: set[_Draining], response: aiohttp.ClientResponse) -> None:
        self._held = held
        self._response = response
        self.timer: asyncio.TimerHandle | None = None

    def ended(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self._held.discard(self)

    def close(self) -> None:
        """The end did not come in time (or the body failed, which drops the end's
        callback): the connection is closed, not pooled (a no-op once aiohttp pooled it)."""
        self.ended()
        self._response.close()


class _Target:
    """One URL a provider posts to: parsed, and the proxy its origin goes through."""

    __slots__ = ("url", "proxy", "proxy_authorization")

    def __init__(self, url: URL, proxy: URL | None, proxy_authorization: str | None) -> None:
        self.url = url
        self.proxy = proxy
        self.proxy_authorization = proxy_authorization


class Posted:
    """One POST's `async with`: the in-flight slot, then aiohttp's request context. A class,
    not an `asynccontextmanager`: that wraps the block in a generator and two more frames
    on every request."""

    __slots__ = ("_transport", "_url", "_body", "_headers", "_request", "_response")

    def __init__(
        self, transport: ProviderTransport, url: str, body: bytes, headers: Mapping[str, str]
    ) -> None:
        self._transport = transport
        self._url = url
        self._body = body
        self._headers = headers
        self._request: AbstractAsyncContextManager[aiohttp.ClientResponse] | None = None
        self._response: aiohttp.ClientResponse | None = None

    async def __aenter__(self) -> aiohttp.ClientResponse:
        transport = self._transport
        if not await transport.in_flight.acquire():
            raise transport._busy()
        try:
            request = transport._send(self._url, self._body, self._headers)
            response = await request.__aenter__()
        except BaseException:
            transport.in_flight.release()
            raise
        self._request, self._response = request, response
        return response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        request, self._request = self._request, None
        response, self._response = self._response, None
        try:
            if request is None or response is None:
                pass
            elif exc_type is None and not response.closed and not response.content.is_eof():
                # The block ended without an error (the answer is whole) before the body's
                # end: the connection finishes the body off the caller's path, to be pooled.
                # Anything else (a failure, the caller gone, cancelled) closes it at once.
                self._transport._drain(response)
            else:
                await request.__aexit__(exc_type, exc, tb)
        finally:
            # The slot is given up now, draining or not: the answer is whole, the provider's
            # work for it done; holding it for the body's end would turn a sequential caller
            # away at a limit with no wait. The connection itself still counts against
            # `max_connections` until it is pooled or closed.
            self._transport.in_flight.release()


class Transports:
    """Every provider's transport, by provider name; made on demand, closed together."""

    def __init__(self) -> None:
        self._by_name: dict[str, ProviderTransport] = {}

    def for_provider(self, settings: ProviderSettings) -> ProviderTransport:
        transport = self._by_name.get(settings.name)
        if transport is None:
            transport = self._by_name[settings.name] = ProviderTransport(settings)
        return transport

    async def close(self) -> None:
        for transport in self._by_name.values():
            await transport.close()
