"""Structured logs: JSON lines, a request id on each, and never a secret or a prompt."""

from __future__ import annotations

import contextvars
import json
import logging
import time
from typing import TYPE_CHECKING, Any

import orjson

from hub.observability.span_context import current_span_context

if TYPE_CHECKING:
    from hub.chat_stream import ChatStream

_TS = "%Y-%m-%dT%H:%M:%S"
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)


class JsonFormatter(logging.Formatter):
    _stamp: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def _timestamp(self, created: float) -> str:
        """formatTime(record, "%Y-%m-%dT%H:%M:%S"), formatted once per second (a log line
        per chat request: strftime was a tenth of the line's cost)."""
        second = int(created)
        stamp = self._stamp
        if stamp[0] != second:
            stamp = self._stamp = (second, time.strftime(_TS, self.converter(second)))
        return stamp[1]

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        return self.line(
            created=record.created,
            level=record.levelname.lower(),
            logger=record.name,
            msg=record.getMessage(),
            fields=fields if isinstance(fields, dict) else None,
            exc=self.formatException(record.exc_info) if record.exc_info else None,
        )

    def line(
        self,
        *,
        created: float,
        level: str,
        logger: str,
        msg: str,
        fields: dict[str, Any] | None,
        exc: str | None = None,
    ) -> str:
        """One record's JSON line, from its parts (`format`'s, and `log_chat`'s own)."""
        line: dict[str, Any] = {
            "ts": self._timestamp(created),
            "level": level,
            "logger": logger,
            "msg": msg,
        }
        request_id = request_id_var.get()
        if request_id:
            line["request_id"] = request_id
        span = current_span_context()
        if span.is_valid:  # the hub's trace, or the caller's traceparent when tracing is off
            line["trace_id"] = format(span.trace_id, "032x")
            line["span_id"] = format(span.span_id, "016x")
        if fields:
            line.update(fields)
        if exc:
            line["exc"] = exc
        try:  # orjson: the one serialisation of the line, several times faster
            return orjson.dumps(line, default=str).decode()
        except TypeError:  # what orjson refuses (integers past 64 bits, lone surrogates)
            return json.dumps(line, default=str)


class JsonLines(logging.StreamHandler):  # type: ignore[type-arg]
    """The hub's handler (`configure_logging`): JSON lines on stderr. `log_chat` writes the
    chat line through `write` when this handler alone would write it (`sole_writer`)."""

    def __init__(self) -> None:
        super().__init__()
        self.json = JsonFormatter()
        self.setFormatter(self.json)

    def write(self, text: str) -> None:
        """A formatted line, as `emit` writes one: under the handler's lock, then flushed."""
        self.acquire()
        try:
            self.stream.write(text + self.terminator)
            self.flush()
        except RecursionError:  # as logging's own handlers do
            raise
        except Exception:  # noqa: BLE001 - logging's own policy: report it, never raise
            self.handleError(logging.makeLogRecord({"msg": text}))
        finally:
            self.release()


def sole_writer(logger: logging.Logger, level: int) -> JsonLines | None:
    """The hub's handler when it is the one handler that would write `logger`'s record at
    `level`, with no filter on the way (as `Logger.handle` and `callHandlers` would go: a
    handler whose level is above the record's does not see it, as the error reporter's at
    ERROR in `hub serve`); None otherwise: not enabled, filtered, another handler (a test's
    capture), or none."""
    if not logger.isEnabledFor(level) or logger.disabled or logger.filters:
        return None
    found: JsonLines | None = None
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if level < handler.level:
                continue  # it would not be called for this record
            if found is not None or type(handler) is not JsonLines or handler.filters:
                return None
            found = handler
        current = current.parent if current.propagate else None
    if found is None or found.formatter is not found.json:
        return None
    return found


def configure_logging(level: str) -> None:
    # What JsonFormatter never writes, logging need not collect for every record (the logging
    # HOWTO's "Optimization"): the caller's frame (a stack walk per record), the thread's and
    # the process's names. About half of a chat request's line (24 -> 13 µs measured).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = JsonLines()
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Its "Context impl ..." lines on every schema check say nothing an operator needs.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Its INFO and DEBUG lines carry a command's response_url, a credential for 30 minutes;
    # the Slack connector says what failed in its own words.
    logging.getLogger("slack_sdk.webhook").setLevel(logging.WARNING)


def log_chat(stream: ChatStream, logger: logging.Logger) -> None:
    """The one line per chat request; content only when debug logging of content is on."""
    result, request = stream.result, stream.request
    fields: dict[str, Any] = {
        "event": "chat",
        "chat_id": result.request_id,
        "team": request.caller.team_name,
        "key_id": request.caller.key_id,
        "connector": request.origin.connector,
        "user": request.origin.user,
        "alias": result.alias,
        "deployment": result.deployment,
        "status": result.status.value,
        "attempts": result.attempts,
        "prompt_tokens": result.usage.prompt_tokens,
        "completion_tokens": result.usage.completion_tokens,
        "cost_micros": result.cost_micros,
        "latency_ms": result.latency_ms,
        "ttft_ms": result.ttft_ms,
    }
    if result.error is not None:
        fields["error"] = getattr(result.error, "code", type(result.error).__name__)
        detail = getattr(result.error, "detail", None)
        if detail:
            fields["error_detail"] = detail
    if stream.log_content:
        fields["prompt"] = [m.plain_text for m in request.messages]
        fields["output"] = result.text
    # The line itself when the hub's handler alone writes it (`hub serve`): without the
    # LogRecord and the handler chain logging builds and walks for it, ~half its cost.
    handler = sole_writer(logger, logging.INFO)
    if handler is None:
        logger.info("chat %s", result.status.value, extra={"fields": fields})
        return
    handler.write(
        handler.json.line(
            created=time.time(),
            level="info",
            logger=logger.name,
            msg=f"chat {result.status.value}",
            fields=fields,
        )
    )
