"""The current span's context, cheaply when there is none (its own module: the log formatter
reads it, and importing hub.observability.tracing would cost every CLI process the config
models)."""

from __future__ import annotations

from opentelemetry import context, trace
from opentelemetry.trace import INVALID_SPAN_CONTEXT, SpanContext


def current_span_context() -> SpanContext:
    """`trace.get_current_span().get_span_context()`, looked up only when a context is
    attached: with none (tracing off and no inbound traceparent: nearly every request) the
    empty context has no span, and the span lookup (nine calls, among them an isinstance
    against the Span ABC) is skipped. Read twice per chat request: the upstream call and the
    log line."""
    if not context.get_current():
        return INVALID_SPAN_CONTEXT
    return trace.get_current_span().get_span_context()
