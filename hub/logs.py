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
        line: dict[str, Any] = {
            "ts": self._timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            line["request_id"] = request_id
        span = current_span_context()
        if span.is_valid:  # the hub's trace, or the caller's traceparent when tracing is off
            line["trace_id"] = format(span.trace_id, "032x")
            line["span_id"] = format(span.span_id, "016x")
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        try:  # orjson: the one serialisation of the line, several times faster
            return orjson.dumps(line, default=str).decode()
        except TypeError:  # what orjson refuses (integers past 64 bits, lone surrogates)
            return json.dumps(line, default=str)


def configure_logging(level: str) -> None:
    # What JsonFormatter never writes, logging need not collect for every record (the logging
    # HOWTO's "Optimization"): the caller's frame (a stack walk per record), the thread's and
    # the process's names. About half of a chat request's line (24 -> 13 µs measured).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
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
    logger.info("chat %s", result.status.value, extra={"fields": fields})
