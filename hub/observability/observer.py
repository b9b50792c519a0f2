"""What the seam in hub/observer.py is told, turned into Prometheus metrics, deployment
health, and (when tracing is on) spans and gen_ai.client.* metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import TracebackType
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from hub.clock import Clock
from hub.config import DeploymentSettings, ModelSettings, ProviderSettings
from hub.errors import Cancelled, LimitError
from hub.ledger.usage_entry import UsageEntry
from hub.model import ChatRequest, ChatResult, Usage
from hub.observability import genai
from hub.observability.health import AttemptLog
from hub.observability.tracing import Tracing, error_type, fail
from hub.observer import AttemptWatch, NextStep, RequestWatch, Step

if TYPE_CHECKING:
    from hub.observability.metrics import HubMetrics

log = logging.getLogger("hub.observability")
STEP_SPANS = {"admission": "unillm.admission", "settlement": "unillm.ledger.settle"}


def _outcome(error: BaseException | None) -> str:
    if error is None:
        return "ok"
    if isinstance(error, GeneratorExit | Cancelled) or type(error).__name__ == "CancelledError":
        return "cancelled"
    return error_type(error)


class HubObserver:
    def __init__(
        self,
        *,
        metrics: Callable[[], HubMetrics],
        tracing: Tracing,
        attempts: AttemptLog,
        providers: Mapping[str, ProviderSettings],
        clock: Clock,
    ) -> None:
        self._metrics = metrics
        self.tracing = tracing
        self.attempts = attempts
        self.providers = providers
        self.clock = clock

    @property
    def metrics(self) -> HubMetrics:
        return self._metrics()

    def request(self, request: ChatRequest, model: ModelSettings) -> RequestWatch:
        return RequestObservation(self, request, model)

    def usage_recorded(self, entry: UsageEntry) -> None:
        try:
            self.metrics.usage(entry)
        except Exception:  # noqa: BLE001 - counting must never fail a settlement
            log.warning("counting a usage record failed", exc_info=True)


class RequestObservation:
    def __init__(self, owner: HubObserver, request: ChatRequest, model: ModelSettings) -> None:
        self._owner = owner
        self._request = request
        self._model = model
        self._overhead = 0.0
        self._last_attempt: AttemptObservation | None = None

    def step(self, name: Step) -> AbstractContextManager[None]:
        return _Timed(self, name)

    def refused(self, error: BaseException) -> None:
        if isinstance(error, LimitError):
            reason = getattr(error, "limit_name", "") or error.code
            self.metrics.of(self.metrics.rejections, self._request.origin.connector, reason).inc()

    def attempt(
        self, deployment: DeploymentSettings, *, number: int, max_tokens: int | None
    ) -> AttemptWatch:
        attempt = AttemptObservation(self, deployment, number=number, max_tokens=max_tokens)
        self._last_attempt = attempt
        return attempt

    @property
    def metrics(self) -> HubMetrics:
        return self._owner.metrics

    def finished(self, result: ChatResult) -> None:
        try:
            self._finished(result)
        except Exception:  # noqa: BLE001 - observing is best effort
            log.warning("observing a finished request failed", exc_info=True)

    def _finished(self, result: ChatResult) -> None:
        metrics = self._owner.metrics
        connector = self._request.origin.connector
        alias = result.alias
        metrics.of(metrics.duration, connector, alias, result.status.value).observe(
            result.latency_ms / 1000
        )
        if result.ttft_ms is not None:
            metrics.of(metrics.ttft, alias, result.deployment or "").observe(result.ttft_ms / 1000)
        metrics.of(metrics.overhead, connector).observe(self._overhead)
        if result.cache is not None:
            metrics.of(metrics.cache, alias, result.cache).inc()
        attempt, self._last_attempt = self._last_attempt, None
        if attempt is not None:
            # Let go of it: the attempt refers back to this request, a cycle that only the
            # garbage collector would otherwise free (#14).
            attempt.close(result)


class _Timed:
    """A step's time added to the request's overhead, under its span when tracing is on: a
    slotted context manager, two per request (a generator-based one cost a generator and
    its wrapper each)."""

    __slots__ = ("_owner", "_name", "_started", "_span")

    def __init__(self, owner: RequestObservation, name: Step) -> None:
        self._owner = owner
        self._name = name
        self._started = 0.0
        self._span: AbstractContextManager[Span] | None = None

    def __enter__(self) -> None:
        hub = self._owner._owner
        self._started = hub.clock.monotonic()
        if hub.tracing.enabled:
            span = hub.tracing.span(STEP_SPANS[self._name])
            try:
                span.__enter__()
            except BaseException:
                self._add()
                raise
            self._span = span

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        span = self._span
        if span is None:  # tracing off: `_add()`, inline
            owner = self._owner
            owner._overhead += owner._owner.clock.monotonic() - self._started
            return None
        try:
            return span.__exit__(kind, exc, tb)
        finally:
            self._add()

    def _add(self) -> None:
        self._owner._overhead += self._owner._owner.clock.monotonic() - self._started


class AttemptObservation:
    def __init__(
        self,
        owner: RequestObservation,
        deployment: DeploymentSettings,
        *,
        number: int,
        max_tokens: int | None,
    ) -> None:
        self._owner = owner
        self._hub = owner._owner
        self._deployment = deployment
        provider = self._hub.providers.get(deployment.provider)
        self._provider_name = deployment.provider
        self._started = self._hub.clock.monotonic()
        self._first_chunk_s: float | None = None
        self._done = False
        self._span: Span | None = None
        self._end_ns: int | None = None
        self._common: dict[str, Any] = {}
        tracing = self._hub.tracing
        if tracing.enabled:
            self._common = genai.common_attributes(deployment, provider)
            request = owner._request
            attributes = {
                **self._common,
                **genai.request_attributes(
                    request, max_tokens=max_tokens, alias=owner._model.alias
                ),
                "unillm.deployment": deployment.label,
                "unillm.attempt": number,
            }
            if tracing.capture_content:
                attributes["gen_ai.input.messages"] = genai.input_messages(request)
            self._span = tracing.tracer.start_span(
                f"{genai.OPERATION} {deployment.model}", kind=SpanKind.CLIENT, attributes=attributes
            )

    @contextmanager
    def _current(self) -> Iterator[None]:
        assert self._span is not None
        token = otel_context.attach(trace.set_span_in_context(self._span))
        try:
            yield
        finally:
            otel_context.detach(token)

    def current(self) -> AbstractContextManager[None]:
        return self._current() if self._span is not None else nullcontext()

    def first_chunk(
        self, *, response_id: str | None = None, response_model: str | None = None
    ) -> None:
        self._first_chunk_s = self._hub.clock.monotonic() - self._started
        if self._span is not None:
            if response_id:
                self._span.set_attribute("gen_ai.response.id", response_id)
            if response_model:
                self._span.set_attribute("gen_ai.response.model", response_model)

    def ended(
        self,
        *,
        error: BaseException | None = None,
        usage: Usage | None = None,
        finish_reason: str | None = None,
        next_step: NextStep = "done",
    ) -> None:
        if self._done:
            return
        self._done = True
        try:
            self._ended(error, usage, finish_reason, next_step)
        except Exception:  # noqa: BLE001 - observing is best effort
            log.warning("observing an upstream attempt failed", exc_info=True)

    def _ended(
        self,
        error: BaseException | None,
        usage: Usage | None,
        finish_reason: str | None,
        next_step: NextStep,
    ) -> None:
        hub, metrics, label = self._hub, self._owner.metrics, self._deployment.label
        elapsed = hub.clock.monotonic() - self._started
        outcome = _outcome(error)
        metrics.adder(metrics.attempts, self._provider_name, label, outcome)(1)
        metrics.of(metrics.upstream, self._provider_name, label, outcome).observe(elapsed)
        if next_step == "retry":
            metrics.of(metrics.retries, label, outcome).inc()
        elif next_step == "fallback":
            metrics.of(metrics.fallbacks, self._owner._model.alias, label, outcome).inc()
        if outcome != "cancelled":
            hub.attempts.record(label, failed=error is not None, now=hub.clock.now())
        self._record_genai(elapsed, error, usage)
        span = self._span
        if span is None:
            return
        if self._first_chunk_s is not None:
            span.set_attribute("gen_ai.response.time_to_first_chunk", self._first_chunk_s)
        if usage is not None:
            span.set_attributes(genai.usage_attributes(usage, self._deployment))
        if finish_reason is not None:
            span.set_attribute("gen_ai.response.finish_reasons", [finish_reason])
        if error is not None:
            fail(span, error)
            span.end()
            self._span = None
        elif hub.tracing.capture_content:
            self._end_ns = time.time_ns()  # ended in close(), once the answer's text is known
        else:
            span.end()
            self._span = None

    def _record_genai(
        self, elapsed: float, error: BaseException | None, usage: Usage | None
    ) -> None:
        meters = self._hub.tracing.meters
        if meters is None:
            return
        attributes = dict(self._common)
        if error is not None:
            attributes["error.type"] = _outcome(error)
        meters.duration.record(elapsed, attributes)
        if self._first_chunk_s is not None:
            meters.time_to_first_chunk.record(self._first_chunk_s, self._common)
        if usage is not None:
            meters.token_usage.record(
                usage.prompt_tokens, {**self._common, "gen_ai.token.type": "input"}
            )
            meters.token_usage.record(
                usage.completion_tokens, {**self._common, "gen_ai.token.type": "output"}
            )

    def close(self, result: ChatResult) -> None:
        """The request is over: an attempt span still open gets the answer, then ends."""
        span, self._span = self._span, None
        if span is None:
            return
        if self._end_ns is not None:
            span.set_attribute(
                "gen_ai.output.messages", genai.output_messages(result.text, result.finish_reason)
            )
            span.end(end_time=self._end_ns)
            return
        # Never ended (the caller left while the first chunk was awaited): end it here.
        span.set_attribute("error.type", "cancelled")
        span.set_status(Status(StatusCode.ERROR, "cancelled"))
        span.end()
