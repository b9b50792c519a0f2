"""A fake OpenTelemetry collector: OTLP over HTTP/protobuf on 127.0.0.1 (POST /v1/traces,
/v1/metrics), decoding each export with the protocol's own protobuf classes.

    async with FakeCollector() as collector:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.origin,
               "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
        ...
        collector.spans                      # every span exported so far (decoded)
        collector.span("chat gpt-4o").attributes["gen_ai.usage.input_tokens"]
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web
from aiohttp.test_utils import TestServer
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

KINDS = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


def value_of(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [value_of(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: value_of(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


@dataclass(frozen=True)
class ExportedSpan:
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    status_code: int  # 0 unset, 1 ok, 2 error
    resource: dict[str, Any]


@dataclass(frozen=True)
class ExportedPoint:
    metric: str
    unit: str
    attributes: dict[str, Any]
    count: int
    total: float
    bounds: tuple[float, ...]


class FakeCollector:
    def __init__(self) -> None:
        self.spans: list[ExportedSpan] = []
        self.points: list[ExportedPoint] = []
        self.content_types: list[str] = []
        self._server: TestServer | None = None
        self._changed = asyncio.Condition()  # notified after each export is stored

    async def wait_spans(self, check: Callable[[list[ExportedSpan]], bool]) -> None:
        """Until `check(spans)` holds, looked at again after each trace export (no polling)."""
        async with self._changed:
            await self._changed.wait_for(lambda: check(self.spans))

    @property
    def origin(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}"

    def span(self, name: str) -> ExportedSpan:
        found = [s for s in self.spans if s.name == name]
        assert len(found) == 1, (name, [s.name for s in self.spans])
        return found[0]

    async def _traces(self, request: web.Request) -> web.Response:
        self.content_types.append(request.content_type)
        export = ExportTraceServiceRequest.FromString(await request.read())
        for resource_spans in export.resource_spans:
            resource = {a.key: value_of(a.value) for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    self.spans.append(
                        ExportedSpan(
                            name=span.name,
                            kind=KINDS.get(span.kind, str(span.kind)),
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            attributes={a.key: value_of(a.value) for a in span.attributes},
                            status_code=span.status.code,
                            resource=resource,
                        )
                    )
        async with self._changed:
            self._changed.notify_all()
        return web.Response(body=b"", content_type="application/x-protobuf")

    async def _metrics(self, request: web.Request) -> web.Response:
        export = ExportMetricsServiceRequest.FromString(await request.read())
        for resource_metrics in export.resource_metrics:
            for scope in resource_metrics.scope_metrics:
                for metric in scope.metrics:
                    if metric.WhichOneof("data") != "histogram":
                        continue
                    for point in metric.histogram.data_points:
                        self.points.append(
                            ExportedPoint(
                                metric=metric.name,
                                unit=metric.unit,
                                attributes={a.key: value_of(a.value) for a in point.attributes},
                                count=point.count,
                                total=point.sum,
                                bounds=tuple(point.explicit_bounds),
                            )
                        )
        return web.Response(body=b"", content_type="application/x-protobuf")

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/v1/traces", self._traces)
        app.router.add_post("/v1/metrics", self._metrics)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        await self._server.close()
