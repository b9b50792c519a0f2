"""GET /metrics: the Prometheus text format, behind `[metrics] bearer_token` on the hub's
port, or open on `[metrics] listen` (an address of its own, for a private network).

With PROMETHEUS_MULTIPROC_DIR set, counters and histograms are summed over every process
that shares the folder (prometheus-client's multi-process mode); gauges are read from the
database on each scrape, so every process answers them alike.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from prometheus_client.core import Metric
    from prometheus_client.registry import Collector

    from hub.service import Hub

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Together:
    def __init__(self, *collectors: Collector) -> None:
        self._collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self._collectors:
            yield from collector.collect()


async def exposition(hub: Hub, *, accept: str = "") -> tuple[bytes, str]:
    """The whole /metrics body and its content type (OpenMetrics when the scraper asks)."""
    # Imported here: a `hub` command that serves nothing never pays for prometheus-client.
    from prometheus_client import CollectorRegistry
    from prometheus_client.exposition import choose_encoder
    from prometheus_client.multiprocess import MultiProcessCollector

    from hub.observability.scrape import snapshot

    async with hub.sessions() as session:
        gauges = await snapshot(
            session,
            now=hub.clock.now(),
            circuits={s.label: s.circuit.state for s in hub.deployment_status()},
        )
    if multiprocess():
        counted: Collector = CollectorRegistry()
        MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
    else:
        counted = hub.observability.metrics.registry
    encode, content_type = choose_encoder(accept)
    return encode(_Together(counted, gauges)), content_type


def multiprocess() -> bool:
    """Whether prometheus-client chose multi-process mode: it does so by itself, when
    PROMETHEUS_MULTIPROC_DIR is set as it is first imported, and reads the folder from there."""
    from prometheus_client import values

    return bool(values.ValueClass.__name__ != "MutexValue")


def authorized(hub: Hub, header: str) -> bool:
    token = hub.settings.metrics.bearer_token
    scheme, _, given = header.partition(" ")
    return (
        bool(token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), token.encode())
    )


def metrics_handler(hub: Hub, *, open_access: bool) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        if not open_access and not authorized(hub, request.headers.get("Authorization", "")):
            why = (
                "send 'Authorization: Bearer <[metrics] bearer_token>'"
                if hub.settings.metrics.bearer_token
                else "set [metrics] bearer_token (or [metrics] listen) to enable /metrics"
            )
            return web.json_response(
                {"error": {"message": f"/metrics needs a token: {why}.", "code": "unauthorized"}},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        body, content_type = await exposition(hub, accept=request.headers.get("Accept", ""))
        return web.Response(body=body, headers={"Content-Type": content_type})

    return handle


def metrics_app(hub: Hub) -> web.Application:
    """The app served on `[metrics] listen`: /metrics alone, no token."""
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler(hub, open_access=True))
    return app
