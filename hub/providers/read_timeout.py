"""aiohttp's client protocol with its `sock_read` timer re-armed lazily.

aiohttp bounds the wait for each network read (`ClientTimeout.sock_read`: the response's
headers, every read of its body) by cancelling its timer handle and scheduling a new one on
every read that brings data: ~15 Python calls a read, most of a long answer's client-side
cost when a provider sends one chunk a read. Here a read only notes the loop's time, and the
one timer, when it fires early (data came since), is set again for the new due time; when it
fires on time, aiohttp's own timeout runs (the same `SocketTimeoutError` on the response, the
same bound from the last data received). Pauses for flow control and the response's end
still drop the timer as aiohttp does (`_drop_timeout`, unchanged).

It overrides two private methods of aiohttp's `ResponseHandler` (`_reschedule_timeout`, and
the timer's callback calls `_on_read_timeout`); tests/hub/providers/test_read_timeout.py
holds the bounds on the aiohttp installed. An aiohttp whose protocol lacks what this relies
on gets its own protocol (`fits`), per-read timer and all: slower, never unbounded.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import aiohttp
from aiohttp.client_proto import ResponseHandler


class LazyReadTimeout(ResponseHandler):
    _last_data = 0.0

    def _reschedule_timeout(self) -> None:
        timeout = self._read_timeout
        if not timeout:
            self._drop_timeout()
            return
        loop = self._loop
        self._last_data = now = loop.time()
        if self._read_timeout_handle is None:
            self._read_timeout_handle = loop.call_at(now + timeout, self._quiet)

    def _quiet(self) -> None:
        self._read_timeout_handle = None
        timeout = self._read_timeout
        if not timeout:
            return
        due = self._last_data + timeout
        loop = self._loop
        if loop.time() < due:  # data came since the timer was set: the bound moved
            self._read_timeout_handle = loop.call_at(due, self._quiet)
        else:
            self._on_read_timeout()


_RELIED_ON = ("_reschedule_timeout", "_on_read_timeout", "_drop_timeout")
_SET_BY_INIT = ("_read_timeout", "_read_timeout_handle", "_loop")


def fits(protocol: type[ResponseHandler], made: ResponseHandler) -> bool:
    """Whether `protocol` (and `made`, one of its instances) has the private methods and
    fields `LazyReadTimeout` overrides and reads, under the names it uses."""
    return all(callable(getattr(protocol, name, None)) for name in _RELIED_ON) and all(
        hasattr(made, name) for name in _SET_BY_INIT
    )


def connector(limit: int) -> aiohttp.TCPConnector:
    """A pool of `limit` connections whose protocol is `LazyReadTimeout` (aiohttp's own where
    the installed aiohttp does not `fit`)."""
    made = aiohttp.TCPConnector(limit=limit, limit_per_host=0, ttl_dns_cache=60)
    if not fits(ResponseHandler, ResponseHandler(loop=made._loop)):
        return made
    factory: Callable[[], ResponseHandler] = functools.partial(LazyReadTimeout, loop=made._loop)
    made._factory = factory  # type: ignore[assignment]  # a partial of the subclass
    return made
