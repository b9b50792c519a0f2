"""Unexpected exceptions: counted in /metrics (`unillm_unexpected_errors_total`) and, with
`[errors] sentry_dsn`, reported to Sentry (or anything that speaks its protocol) with the
request id and trace id, scrubbed of secrets and content.

Two ways in: the HTTP middleware reports what escapes a handler (`report`), and a logging
handler reports every `log.exception(...)` of the hub's background work (Slack and Discord
answers, jobs). An exception is reported once, whichever sees it first.

Scrubbing: no request bodies, headers, cookies, local variables, breadcrumbs or log extras
are sent (log extras can hold prompts when `log_content` is on); messages and exception text
have the configured secrets and anything shaped like an API key or bearer token masked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from hub.config.observability import ErrorSettings
from hub.logs import request_id_var
from hub.observability.tracing import current_trace_ids

if TYPE_CHECKING:
    from hub.observability.metrics import HubMetrics

log = logging.getLogger("hub.errors")
REDACTED = "[redacted]"
_SHAPES = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"  # Authorization values
    r"|\b(sk|pk|rk)-[A-Za-z0-9_-]{8,}"  # OpenAI-style keys
    r"|\bsk-ant-[A-Za-z0-9_-]{8,}"
    r"|\bxox[abposr]-[A-Za-z0-9-]{8,}"  # Slack tokens
    r"|\bxapp-[A-Za-z0-9-]{8,}"
    r"|\buh-[A-Za-z0-9_-]{8,}"  # the hub's own keys
    r"|\bwhsec_[A-Za-z0-9+/=]{8,}"
)
_REPORTED = "_unillm_reported"
_KEEP = ("event_id", "timestamp", "level", "platform", "environment", "release", "sdk")


class Scrubber:
    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, REDACTED)
        return _SHAPES.sub(lambda m: (m.group(1) or "") + REDACTED, value)

    def event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Only what names the failure survives: the exception, its frames, our tags."""
        clean: dict[str, Any] = {k: event[k] for k in _KEEP if k in event}
        clean["tags"] = {k: self.text(str(v)) for k, v in (event.get("tags") or {}).items()}
        if "logentry" in event:
            entry = event["logentry"]
            clean["logentry"] = {
                "message": self.text(str(entry.get("formatted") or entry.get("message") or ""))
            }
        if "logger" in event:
            clean["logger"] = event["logger"]
        exception = event.get("exception")
        if isinstance(exception, dict):
            clean["exception"] = {
                "values": [self._exception(v) for v in exception.get("values", [])]
            }
        return clean

    def _exception(self, value: dict[str, Any]) -> dict[str, Any]:
        frames = (value.get("stacktrace") or {}).get("frames") or []
        kept = [
            {k: f[k] for k in ("filename", "module", "function", "lineno", "in_app") if k in f}
            for f in frames
        ]
        return {
            "type": value.get("type"),
            "module": value.get("module"),
            "value": self.text(str(value.get("value") or "")),
            "mechanism": value.get("mechanism"),
            "stacktrace": {"frames": kept},
        }


class ErrorReporter:
    def __init__(
        self,
        settings: ErrorSettings,
        *,
        metrics: Callable[[], HubMetrics],
        secrets: Iterable[str],
    ) -> None:
        self._metrics = metrics
        # Marked per reporter: another hub in the same process (tests, a CLI running a hub)
        # counts its own errors, and its marks must not hide one from this hub.
        self._mark = f"{_REPORTED}_{id(self)}"
        self.scrubber = Scrubber(secrets)
        self._client: Any = None
        if settings.sentry_dsn:
            self._start(settings)
        self.handler = _LoggedErrors(self)

    def _start(self, settings: ErrorSettings) -> None:
        import sentry_sdk

        def before_send(event: Any, hint: Any) -> Any:
            return self.scrubber.event(event)

        self._client = sentry_sdk.Client(
            dsn=settings.sentry_dsn,
            environment=settings.environment,
            default_integrations=False,
            auto_enabling_integrations=False,
            integrations=[],
            # Collect nothing about users, bodies, frames' variables or source lines.
            data_collection={
                "user_info": False,
                "http_bodies": [],
                "stack_frame_variables": False,
                "frame_context_lines": 0,
            },
            max_breadcrumbs=0,
            before_send=before_send,
        )

    @property
    def enabled(self) -> bool:
        return self._client is not None

    def report(self, exc: BaseException, *, component: str) -> None:
        """Count and send an unexpected exception, with the request id and trace id."""
        if getattr(exc, self._mark, False):
            return
        try:
            setattr(exc, self._mark, True)
        except AttributeError:
            pass
        metrics = self._metrics()
        metrics.of(metrics.errors, component).inc()
        if self._client is None:
            return
        try:
            self._send(exc, component)
        except Exception:  # noqa: BLE001 - reporting must never become the failure
            log.warning("could not report an error to the error tracker", exc_info=True)

    def _send(self, exc: BaseException, component: str) -> None:
        from sentry_sdk.utils import event_from_exception

        event, hint = event_from_exception(
            exc,
            client_options=self._client.options,
            mechanism={"type": "unillm", "handled": False},
        )
        tags = {"component": component}
        request_id = request_id_var.get()
        if request_id:
            tags["request_id"] = request_id
        ids = current_trace_ids()
        if ids is not None:
            tags["trace_id"], tags["span_id"] = ids
        event["tags"] = tags
        self._client.capture_event(event, hint=hint)

    def flush(self, timeout_s: float = 5.0) -> None:
        """Send what is queued (blocking: run it in a thread from async code)."""
        if self._client is not None:
            self._client.flush(timeout=timeout_s)

    def close(self) -> None:
        logging.getLogger().removeHandler(self.handler)
        if self._client is not None:
            self._client.close(timeout=2.0)
            self._client = None


class _LoggedErrors(logging.Handler):
    """`log.exception(...)` anywhere in the hub is an unexpected exception: report it."""

    def __init__(self, reporter: ErrorReporter) -> None:
        super().__init__(level=logging.ERROR)
        self._reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None and record.name != log.name:
            self._reporter.report(record.exc_info[1], component=record.name)
