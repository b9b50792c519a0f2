"""How the hub's aiohttp server runs: its timeouts, and what it logs about broken requests.

- `[server] header_timeout_s`: a connection that has started a request must finish sending
  its request line and headers within this time, or it is closed (aiohttp has no such
  timeout of its own: a half-sent request would stay open for ever);
- `[server] body_timeout_s`: a handler reading a body waits at most this long for all of it
  (`hub.request_body.read_body` answers 408), and after an answer aiohttp discards what is
  left of an unread body for at most this long;
- `[server] keepalive_timeout_s`: an idle connection between requests is closed after this.

Requests aiohttp itself refuses (a malformed request line, headers over its limits) are a
client's mistake: logged at INFO without a traceback, where aiohttp would log an ERROR with
one.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from hub.config import ServerSettings
from hub.request_body import BODY_TIMEOUT_KEY


class _ProtocolLog(logging.Logger):
    """aiohttp's server logger, with parse errors demoted to INFO and no traceback."""

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            self.info("%s: refused a malformed request: %s", str(msg) % args, exc_info.message)
            return
        super().exception(msg, *args, exc_info=exc_info, **kwargs)


def _protocol_log() -> logging.Logger:
    log = _ProtocolLog("aiohttp.server")
    log.parent = logging.getLogger("aiohttp")
    return log


PROTOCOL_LOG = _protocol_log()


class _HeaderDeadline(RequestHandler):
    """A connection closed when a request's headers take longer than `header_timeout`.

    The timer starts with the first read of a request that does not complete its headers and
    stops once aiohttp has parsed them; an idle connection is left to the keep-alive
    timeout."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Set only when a read leaves a request's headers unfinished (usually they all come
        # in the first: no timer made and cancelled per request). `_busy()`, inline: twice
        # a request.
        if self._messages or self._request_in_progress:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None
        elif data and self._header_timer is None:
            self._header_timer = self._loop.call_later(self.header_timeout, self._headers_late)

    def _busy(self) -> bool:
        # A parsed request waiting for its handler, or one being handled.
        return bool(self._messages) or self._request_in_progress

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self._busy():
            self.force_close()

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)


class _DeadlineServer(web.Server):
    header_timeout: float = 10.0

    def __call__(self) -> RequestHandler:
        handler = _HeaderDeadline(self, loop=self._loop, **self._kwargs)
        handler.header_timeout = self.header_timeout
        return handler


class HubRunner(web.AppRunner):
    """`web.AppRunner` with the hub's timeouts and protocol logging, for `hub serve` and the
    test harness alike."""

    def __init__(self, app: web.Application, server: ServerSettings) -> None:
        app[BODY_TIMEOUT_KEY] = server.body_timeout_s
        super().__init__(
            app,
            handler_cancellation=True,
            access_log=None,
            keepalive_timeout=server.keepalive_timeout_s,
            lingering_time=min(10.0, server.body_timeout_s),
            logger=PROTOCOL_LOG,
        )
        self._header_timeout = server.header_timeout_s

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # aiohttp builds the Server; ours differs only in the protocol it makes.
        server.__class__ = _DeadlineServer
        assert isinstance(server, _DeadlineServer)
        server.header_timeout = self._header_timeout
        return server
