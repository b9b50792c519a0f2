"""OpenTelemetry for one hub: a tracer and a meter of its own, exporting OTLP over
HTTP/protobuf when the environment names an endpoint, and nothing at all otherwise.

Off, `enabled` is False and callers skip building attributes altogether; the only work left
is reading an inbound `traceparent` so log lines and the upstream call carry the caller's
trace (a gateway passes trace context on, like any proxy).

The provider is the hub's own, not the process-global one, so two hubs in one process (the
tests) never share spans; context and propagation are OpenTelemetry's usual globals.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import Token
from typing import TYPE_CHECKING, Any

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from hub.config.observability import OtelSettings
from hub.observability.span_context import current_span_context

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("hub.tracing")
SCOPE = "unillm_hub"
# The GenAI conventions' advised bucket boundaries (gen-ai-metrics.md).
TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
SECONDS_BUCKETS = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip


class GenAiMeters:
    """gen_ai.client.* histograms, recorded per upstream attempt."""

    def __init__(self, meter: Any) -> None:
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )
        self.time_to_first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time to receive the first chunk of a streamed response.",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )


class Tracing:
    def __init__(self, settings: OtelSettings, *, log_content: bool) -> None:
        self.enabled = settings.enabled
        # Content is recorded only when both the GenAI opt-in and the hub's own say so.
        self.capture_content = self.enabled and settings.capture_content and log_content
        self._providers: list[Any] = []
        self.tracer: Tracer = trace.NoOpTracer()
        self.meters: GenAiMeters | None = None
        if self.enabled:
            self._start(settings)

    def _start(self, settings: OtelSettings) -> None:
        # Imported only when on: the SDK and exporters cost nothing to a hub that exports nothing.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create({"service.name": settings.service_name})
        provider = TracerProvider(resource=resource)
        exporter = OTLPSpanExporter(endpoint=settings.traces_endpoint, headers=settings.headers)
        provider.add_span_processor(BatchSpanProcessor(exporter))
        self._providers.append(provider)
        self.tracer = provider.get_tracer(SCOPE)
        if settings.metrics_endpoint:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
                OTLPMetricExporter,
            )
            from opentelemetry.sdk.metrics import MeterProvider
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

            reader = PeriodicExportingMetricReader(
                OTLPMetricExporter(endpoint=settings.metrics_endpoint, headers=settings.headers)
            )
            meters = MeterProvider(resource=resource, metric_readers=[reader])
            self._providers.append(meters)
            self.meters = GenAiMeters(meters.get_meter(SCOPE))

    def flush(self, timeout_ms: int = 10_000) -> None:
        """Export what is buffered (blocking: run it in a thread from async code)."""
        for provider in self._providers:
            provider.force_flush(timeout_ms)

    def shutdown(self) -> None:
        for provider in self._providers:
            provider.shutdown()
        self._providers.clear()

    @contextmanager
    def span(
        self,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, Any] | None = None,
    ) -> Iterator[Span]:
        """A span made current for the block; an exception marks it failed (`error.type`)."""
        with self.tracer.start_as_current_span(
            name, kind=kind, attributes=attributes, record_exception=False,
            set_status_on_exception=False,
        ) as span:  # fmt: skip
            try:
                yield span
            except BaseException as exc:
                fail(span, exc)
                raise

    def event(
        self, platform: str, event: str, *, conversation: str | None = None
    ) -> AbstractContextManager[object]:
        """The span of one Slack or Discord event the hub answers (kind CONSUMER): the chat
        spans of the answer hang under it, with or without an HTTP request around it."""
        if not self.enabled:
            return nullcontext()
        attributes = {"unillm.platform": platform, "unillm.event": event}
        if conversation:
            attributes["gen_ai.conversation.id"] = conversation
        return self.span(f"{platform} {event}", kind=SpanKind.CONSUMER, attributes=attributes)


def error_type(exc: BaseException) -> str:
    """A low-cardinality name for a failure: the hub's error code, else the class name."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else type(exc).__qualname__


def fail(span: Span, exc: BaseException) -> None:
    kind = error_type(exc)
    span.set_attribute("error.type", kind)
    span.set_status(Status(StatusCode.ERROR, kind))


def attach_inbound(headers: Mapping[str, str]) -> Token[Context] | None:
    """The caller's trace context (W3C traceparent/tracestate) made current; the token for
    `context.detach`, or None when the request carries none (no context change, no call)."""
    if "traceparent" not in headers:
        return None
    from opentelemetry import propagate  # loads the propagators once, on first use

    return context.attach(propagate.extract(headers))


async def inject_trace_headers(request: httpx.Request) -> None:
    """An httpx request hook: outgoing calls carry the current trace context."""
    if trace.get_current_span().get_span_context().is_valid:
        from opentelemetry import propagate

        propagate.inject(request.headers)


def inject_trace_context(headers: dict[str, str]) -> None:
    """Outgoing provider calls (aiohttp) carry the current trace context, when there is one."""
    if current_span_context().is_valid:
        from opentelemetry import propagate

        propagate.inject(headers)


def current_trace_ids() -> tuple[str, str] | None:
    ctx = current_span_context()
    if not ctx.is_valid:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")
