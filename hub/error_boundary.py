"""One error boundary per connector: whatever escapes a connector's handler is answered in
that connector's error format (OpenAI JSON, Slack, Discord, Standard Webhooks JSON, the admin
API's), never as aiohttp's text/plain 500.

A connector may offer `error_response(error: HubError) -> web.StreamResponse`; `create_app`
registers it for every route the connector mounts (`Boundaries.register`), and the hub's one
middleware (hub.web) finds the matched route's boundary. What it catches:

- a `HubError` (a client mistake, a refused limit, a dependency down): rendered with its
  status; logged once at INFO (4xx) or WARNING (5xx), without a traceback;
- an aiohttp `HTTPException` of 400 or more (say a body over `client_max_size`): rendered as
  the same status in the connector's format, logged at INFO;
- anything else is a bug: logged once at ERROR with the traceback, reported to error
  tracking, and answered 500 with the request id, so the person can quote it.

Cancellation and a client that hung up pass through untouched: nobody is left to answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractRoute

from hub.errors import HubError
from hub.logs import request_id_var
from hub.observability.errors import ErrorReporter

log = logging.getLogger("hub.web.errors")
Render = Callable[[HubError], web.StreamResponse]
Found = tuple[str, Render] | None


class InternalError(HubError):
    """A bug in the hub: the request id is the way to find its traceback in the log."""

    status = 500
    code = "internal_error"

    def __init__(self, request_id: str) -> None:
        super().__init__(
            "Something went wrong inside the hub; it was logged with request id "
            f"{request_id or 'unknown'}. Please retry, and report it if it happens again."
        )


class HttpRefusal(HubError):
    """One of aiohttp's own refusals (413, 404, 405, ...), in the connector's format."""

    def __init__(self, exc: web.HTTPException) -> None:
        super().__init__(exc.text or exc.reason)
        self.status = exc.status
        self.code = exc.reason.lower().replace(" ", "_")


def default_render(error: HubError) -> web.StreamResponse:
    """For connectors that bring no format of their own."""
    body = {"error": {"message": error.user_message, "code": error.code}}
    return web.json_response(body, status=error.status if error.status != 499 else 400)


class Boundaries:
    """Which connector's boundary answers for each mounted route."""

    def __init__(self, errors: ErrorReporter) -> None:
        self._by_route: dict[AbstractRoute, tuple[str, Render]] = {}
        self._errors = errors

    def register(self, connector: str, render: Render, routes: list[AbstractRoute]) -> None:
        for route in routes:
            self._by_route[route] = (connector, render)

    def find(self, request: web.Request) -> Found:
        """The matched route's connector and renderer; None for routes with no boundary."""
        return self._by_route.get(request.match_info.route)

    def catch(
        self, found: Found, request: web.Request, exc: BaseException
    ) -> web.StreamResponse | None:
        """The answer to what escaped the handler of a route with a boundary, or None when it
        passes through (no boundary, a redirect, cancellation, a client that hung up).

        A plain function called from the one middleware's `except` (hub.web), so a request
        that raises nothing pays for no boundary frame at all."""
        if found is None:
            return None
        connector, render = found
        if isinstance(exc, HubError):
            _log_refusal(connector, request, exc)
            return render(exc)
        if isinstance(exc, web.HTTPException):
            if exc.status < 400:
                return None
            refusal = HttpRefusal(exc)
            _log_refusal(connector, request, refusal)
            return render(refusal)
        if isinstance(exc, asyncio.CancelledError | ConnectionResetError) or not isinstance(
            exc, Exception
        ):
            return None
        request_id = request_id_var.get() or ""
        # Reported first: the ERROR line below would otherwise report it again under this
        # module's logger name instead of the http component.
        self._errors.report(exc, component="http")
        log.error(
            "bug: %s %s (connector %s, request id %s) raised %s",
            request.method,
            _route(request),
            connector,
            request_id,
            type(exc).__name__,
            exc_info=exc,
        )
        return render(InternalError(request_id))


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else request.path[:200]


def _log_refusal(connector: str, request: web.Request, error: HubError) -> None:
    level = logging.WARNING if error.status >= 500 else logging.INFO
    log.log(
        level,
        "%s %s (connector %s) answered %s %s: %s",
        request.method,
        _route(request),
        connector,
        error.status,
        error.code,
        error.user_message,
    )
