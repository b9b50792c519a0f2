"""The inbound side of a trace, and the last net for unexpected exceptions: the parts of the
hub's one middleware (hub.web) that open the HTTP server span every other span of the request
hangs under when tracing is on (OpenAI API, webhooks, Zapier, Slack events, Discord
interactions), and report what escapes a handler."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from hub.observability.errors import ErrorReporter
from hub.observability.tracing import Tracing

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
EXPECTED = (web.HTTPException, asyncio.CancelledError, ConnectionResetError)


def route_of(request: web.Request) -> str:
    """The matched route's template (`/hooks/{hook_id}`), never the raw path: bounded names."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else ""


def report_escaped(errors: ErrorReporter, exc: BaseException) -> None:
    """What escaped a handler and its boundary: reported unless it is expected."""
    if isinstance(exc, Exception) and not isinstance(exc, EXPECTED):
        errors.report(exc, component="http")


async def traced(
    tracing: Tracing, errors: ErrorReporter, request: web.Request, handler: Handler
) -> web.StreamResponse:
    """The request under its HTTP server span (tracing on)."""
    route = route_of(request)
    attributes = {
        "http.request.method": request.method,
        "url.path": request.path,
        "url.scheme": request.scheme,
        "http.route": route,
        "server.address": request.host.split(":")[0],
        "user_agent.original": request.headers.get("User-Agent", ""),
    }
    name = f"{request.method} {route}" if route else request.method
    with tracing.tracer.start_as_current_span(
        name, kind=SpanKind.SERVER, attributes=attributes, record_exception=False
    ) as span:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            _status(span, exc.status)
            raise
        except BaseException as exc:
            span.set_attribute("error.type", type(exc).__qualname__)
            span.set_status(Status(StatusCode.ERROR))
            report_escaped(errors, exc)
            raise
        _status(span, response.status)
        return response


def _status(span: Span, status: int) -> None:
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_attribute("error.type", str(status))
        span.set_status(Status(StatusCode.ERROR))
