"""The aiohttp application: health endpoints, request ids, and each enabled connector's routes."""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from aiohttp import web
from opentelemetry import context

from hub.client_address import client_address
from hub.connector import (
    Connector,
    ConnectorPlugin,
    discover,
    enabled,
    error_renderer,
    openapi_fragment,
)
from hub.docs_page import DOCS_HTML
from hub.error_boundary import Boundaries, default_render
from hub.logs import request_id_var
from hub.observability.endpoint import metrics_handler
from hub.observability.errors import ErrorReporter
from hub.observability.http_server import report_escaped, traced
from hub.observability.tracing import Tracing, attach_inbound
from hub.openapi import build_document
from hub.service import Hub

HUB_KEY = web.AppKey("hub", Hub)
CONNECTORS_KEY = web.AppKey("connectors", list)
OPENAPI_KEY = web.AppKey("openapi", dict)
REQUEST_ID_KEY = web.RequestKey("request_id", str)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def hub_middleware(boundaries: Boundaries, tracing: Tracing, errors: ErrorReporter) -> Any:
    """The hub's one middleware: the request id, the caller's trace context (and the server
    span when tracing is on), the route's error boundary, and the report of what escapes it.

    One layer, not three: aiohttp wraps every middleware in a coroutine frame of its own and
    adds one more (`_fix_request_current_app`) whenever there is any, and a request that
    raises nothing should pay for no boundary. The order is the one the three had: the
    boundary answers first, the report sees what it let through."""

    async def bounded(request: web.Request, handler: Handler) -> web.StreamResponse:
        found = boundaries.find(request)
        try:
            return await handler(request)
        except BaseException as exc:
            answer = boundaries.catch(found, request, exc)
            if answer is None:
                raise
            return answer

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("X-Request-ID")
        # secrets.token_hex(16)'s bytes (os.urandom), without its three wrappers around them.
        request_id = given if given is not None and _SAFE_ID.match(given) else os.urandom(16).hex()
        request[REQUEST_ID_KEY] = request_id
        token = request_id_var.set(request_id)
        trace_token = attach_inbound(request.headers)
        try:
            if tracing.enabled:
                return await traced(tracing, errors, request, partial(bounded, handler=handler))
            found = boundaries.find(request)
            try:
                return await handler(request)
            except BaseException as exc:
                answer = boundaries.catch(found, request, exc)
                if answer is None:
                    report_escaped(errors, exc)
                    raise
                return answer
        finally:
            if trace_token is not None:
                context.detach(trace_token)
            request_id_var.reset(token)

    return middleware


async def _add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    if REQUEST_ID_KEY in request:
        response.headers["X-Request-ID"] = request[REQUEST_ID_KEY]


def client_ip(request: web.Request) -> str | None:
    """The client's address for allowlists: X-Forwarded-For counts only via trusted proxies."""
    hub = request.app[HUB_KEY]
    return client_address(
        request.remote, request.headers.get("X-Forwarded-For"), hub.trusted_proxies
    )


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    hub = request.app[HUB_KEY]
    checks = await hub.readiness()
    ready = all(state == "ok" for state in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI_KEY])


async def docs(request: web.Request) -> web.Response:
    return web.Response(text=DOCS_HTML, content_type="text/html")


def create_app(
    hub: Hub,
    *,
    plugins: Sequence[ConnectorPlugin] | None = None,
    close_hub: bool = False,
) -> web.Application:
    boundaries = Boundaries(hub.observability.errors)
    app = web.Application(
        middlewares=[
            hub_middleware(boundaries, hub.observability.tracing, hub.observability.errors)
        ],
        # Only for handlers that read with request.post()/read() (the dashboard's small forms):
        # every API route reads with hub.request_body.read_body and its own max_body_bytes.
        client_max_size=1024**2,
    )
    app[HUB_KEY] = hub
    app.on_response_prepare.append(_add_request_id)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/openapi.json", openapi_json)
    app.router.add_get("/docs", docs)
    app.router.add_get("/metrics", metrics_handler(hub, open_access=False))
    chosen = list(plugins) if plugins is not None else enabled(discover(), hub.settings.connectors)
    connectors: list[Connector] = []
    for plugin in chosen:
        connector = plugin.create(hub, hub.settings.connector(plugin.name))
        routes = app.router.add_routes(connector.routes())
        render = error_renderer(connector) or default_render
        boundaries.register(connector.name, render, routes)
        connectors.append(connector)
    app[CONNECTORS_KEY] = connectors
    # Built once from the connectors actually mounted, so disabled ones are not described.
    fragments = [f for f in map(openapi_fragment, chosen) if f is not None]
    app[OPENAPI_KEY] = build_document(fragments)

    async def start(_: web.Application) -> None:
        await hub.start()
        for connector in connectors:
            await connector.start()

    async def stop(_: web.Application) -> None:
        for connector in reversed(connectors):
            await connector.stop()
        if close_hub:
            await hub.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return app
