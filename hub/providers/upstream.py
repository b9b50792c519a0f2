"""What every HTTP provider shares: SSE parsing and the one translation of upstream failures.

Server-sent events are parsed per network read (`SseParser.feed`): every event that arrived
in one read is handed on at once, so the chunks it carries can be written to the client in
one write.

Upstream trouble becomes a `ProviderError` here and nowhere else. The user message is one
sentence naming the provider by its config name; status codes and upstream text go to
`detail`, truncated and with the API key blanked out, never to the user.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

import aiohttp
from yarl import URL

from hub import fastjson
from hub.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderError,
    ProviderMalformed,
    ProviderRateLimited,
    ProviderUnavailable,
    StreamInterrupted,
    UpstreamRejection,
)

DETAIL_MAX_CHARS = 300
MESSAGE_MAX_CHARS = 2000
# Upstream 4xx statuses that describe the caller's request (context too long, a bad
# parameter, content policy): passed on with the upstream's own words.
CALLER_STATUSES = frozenset({400, 409, 413, 415, 422})


@dataclass(slots=True)
class SseEvent:
    """Not frozen: a frozen dataclass sets each field through `object.__setattr__`, and one
    is built per upstream event (nothing changes it once built)."""

    event: str
    data: str


class SseParser:
    """Server-sent events from the bytes of a response as they arrive: comments and
    keepalives skipped, data lines joined. Lines end in LF, CRLF or CR (the spec's three)."""

    def __init__(self) -> None:
        self._pending = b""
        self._event = ""
        self._data: list[str] = []
        # Whether orjson reads what the last `feed` or `data` completed as json.loads does.
        self.alike = True

    def feed(self, received: bytes) -> list[SseEvent]:
        """The events completed by `received`, in order."""
        events: list[SseEvent] = []
        data = self._data
        for line in self._whole(received).split("\n")[:-1]:  # the last: empty, after the end
            # Inline for the two lines nearly every event is (`data: ...`, then a blank):
            # a call per line was a tenth of the parsing.
            if line[:6] == "data: ":
                data.append(line[6:])
            elif not line and data:
                joined = data[0] if len(data) == 1 else "\n".join(data)
                events.append(SseEvent(event=self._event or "message", data=joined))
                self._event, self._data = "", []
                data = self._data
            else:
                self._line(line, events)
                data = self._data
        return events

    def data(self, received: bytes) -> list[str]:
        """`feed`'s events' data alone (for a protocol whose events have no names that
        matter: OpenAI's), without an event object each; `alike` says whether orjson reads
        them all as `json.loads` does (fastjson.orjson_reads_alike, checked on the bytes)."""
        text = self._whole(received)
        if not self._data and text[-2:] == "\n\n":
            # Nearly every read: whole events of one `data: ` line each, told apart by their
            # blank lines, without a step per line.
            out = text[:-2].split("\n\n")
            for position, part in enumerate(out):
                if part[:6] != "data: " or "\n" in part:
                    break  # a comment, a field, several lines: read line by line below
                out[position] = part[6:]
            else:
                self._event = ""
                return out
        out = []
        data = self._data
        for line in text.split("\n")[:-1]:
            if line[:6] == "data: ":
                data.append(line[6:])
            elif not line and data:
                out.append(data[0] if len(data) == 1 else "\n".join(data))
                self._event, self._data = "", []
                data = self._data
            else:
                events: list[SseEvent] = []
                self._line(line, events)
                out.extend(event.data for event in events)
                data = self._data
        return out

    def _whole(self, received: bytes) -> str:
        """The whole lines `received` completes (with what was pending), decoded, each
        ending in LF; sets `alike` for them."""
        buffer = self._pending + received if self._pending else received
        # Up to the last line ending, less a CR at the very end (its LF may be in the next
        # read): decoded once, then split on the spec's three line endings. UTF-8 never has
        # CR or LF inside a character, so this reads as decoding line by line would.
        if buffer[-1:] == b"\n":  # nearly every read ends a line: no search
            end = len(buffer)
        else:
            end = max(buffer.rfind(b"\n"), buffer.rfind(b"\r", 0, len(buffer) - 1)) + 1
        self._pending = buffer[end:]
        # An event whose first lines came before (and were checked then) keeps their verdict.
        carried = self.alike or not self._data
        if not end:
            self.alike = carried
            return ""
        whole = buffer[:end]
        # A run of 19 digits lies within one line (a line ending breaks it), and every line
        # is checked whole here, once: digits are the same bytes before decoding and after.
        self.alike = carried and fastjson.bytes_read_alike(whole)
        text = whole.decode("utf-8", "replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return text

    def close(self) -> list[SseEvent]:
        """What is left when the stream ends (a last event without its blank line)."""
        events: list[SseEvent] = []
        if self._pending:
            self._line(self._pending.rstrip(b"\r\n").decode("utf-8", "replace"), events)
            self._pending = b""
        self._line("", events)
        return events

    def _line(self, line: str, events: list[SseEvent]) -> None:
        if not line:
            if self._data:
                events.append(SseEvent(event=self._event or "message", data="\n".join(self._data)))
            self._event, self._data = "", []
            return
        if line[0] == ":":
            return
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value


async def sse_batches(response: aiohttp.ClientResponse) -> AsyncIterator[list[SseEvent]]:
    """The events of a response, a list per network read (reads that complete none skipped),
    then what the end of the stream completes."""
    parser = SseParser()
    async for received in response.content.iter_any():
        if events := parser.feed(received):
            yield events
    if events := parser.close():
        yield events


def parse_retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds to wait, from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


class StreamProgress:
    """How far a request got: a connection lost after the headers is a cut stream."""

    def __init__(self) -> None:
        self.streaming = False


class UpstreamErrors:
    """Builds the `ProviderError` for each way one provider can fail."""

    def __init__(self, provider: str, api_key: str, *, base_url: str = "") -> None:
        self.provider = provider
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")

    @property
    def _host(self) -> str:
        # Parsed only when an error is described, not for every request.
        return (URL(self._base_url).host or "") if self._base_url else ""

    def _masked(self, text: str) -> str:
        """Without the key, the provider's URL or its host name."""
        for secret, mask in (
            (self._api_key, "***"),
            (self._base_url, "the provider"),
            (self._host, "the provider"),
        ):
            if secret:
                text = text.replace(secret, mask)
        return text

    def _detail(self, text: str) -> str:
        text = self._masked(text)
        if len(text) > DETAIL_MAX_CHARS:
            text = text[: DETAIL_MAX_CHARS - 3] + "..."
        return text

    def for_status(self, status: int, body: bytes, retry_after: float | None) -> ProviderError:
        name = self.provider
        detail = self._detail(f"{name}: HTTP {status}: {upstream_message(body)}")
        if status in (401, 403):
            return ProviderAuthError(
                f"The model provider '{name}' refused the hub's credentials; "
                "an operator needs to check its API key.",
                detail=detail,
            )
        if status == 404:
            return ProviderBadRequest(
                f"The model provider '{name}' does not know the requested model.", detail=detail
            )
        if status == 429:
            wait = f"in {retry_after:g} seconds" if retry_after is not None else "in a moment"
            return ProviderRateLimited(
                f"The model provider '{name}' is rate limiting the hub; try again {wait}.",
                detail=detail,
                retry_after=retry_after,
            )
        if status in CALLER_STATUSES:
            rejection = self.rejection(status, body)
            return ProviderBadRequest(rejection.message, detail=detail, upstream=rejection)
        if 400 <= status < 500:
            return ProviderBadRequest(
                f"The model provider '{name}' rejected the request as invalid.", detail=detail
            )
        return ProviderUnavailable(
            f"The model provider '{name}' is unavailable right now; try again shortly.",
            detail=detail,
        )

    def rejection(self, status: int, body: Any) -> UpstreamRejection:
        """The upstream's description of what was wrong, in OpenAI's terms (OpenAI's error
        body, or Anthropic's `{"type": "error", "error": {"type", "message"}}`)."""
        inner = _error_object(body)
        message = inner.get("message") if isinstance(inner.get("message"), str) else None
        text = self._masked(message or upstream_message(body))[:MESSAGE_MAX_CHARS]
        kind, code, param = (
            inner.get(k) if isinstance(inner.get(k), str) else None
            for k in ("type", "code", "param")
        )
        if code is None and "prompt is too long" in text:
            code = "context_length_exceeded"  # Anthropic's words for OpenAI's code
        return UpstreamRejection(
            status=status,
            message=text or f"The model provider '{self.provider}' rejected the request.",
            type=kind or "invalid_request_error",
            code=code,
            param=param,
        )

    def malformed(self, why: str) -> ProviderMalformed:
        """The upstream answered, but not in its protocol."""
        return ProviderMalformed(
            f"The model provider '{self.provider}' sent a malformed response.",
            detail=self._detail(f"{self.provider}: malformed response: {why}"),
        )

    def cut(self, why: str) -> StreamInterrupted:
        """The stream stopped before its end marker."""
        return StreamInterrupted(
            f"The answer from the model provider '{self.provider}' was cut off before it finished.",
            detail=self._detail(f"{self.provider}: {why}"),
        )

    def in_stream(self, error: Any) -> ProviderError:
        """An error payload sent inside an otherwise healthy stream."""
        return ProviderUnavailable(
            f"The model provider '{self.provider}' failed while answering; try again shortly.",
            detail=self._detail(f"{self.provider}: error in stream: {upstream_message(error)}"),
        )

    def translated(self, progress: StreamProgress) -> Translated:
        """`with errors.translated(progress):` the HTTP client's failures raised inside the
        block become `ProviderError`s."""
        return Translated(self, progress)

    def translate(self, exc: BaseException, progress: StreamProgress) -> ProviderError | None:
        """The `ProviderError` an HTTP client failure is (None: not one of those)."""
        if isinstance(exc, TimeoutError):  # aiohttp's connect and read timeouts are these
            return ProviderUnavailable(
                f"The model provider '{self.provider}' did not answer in time; try again shortly.",
                detail=self._detail(f"{self.provider}: timed out: {exc!r}"),
            )
        if isinstance(exc, aiohttp.ClientError | OSError):
            if progress.streaming:
                return self.cut(f"connection lost: {exc!r}")
            return ProviderUnavailable(
                f"The hub could not reach the model provider '{self.provider}'; try again shortly.",
                detail=self._detail(f"{self.provider}: connection failed: {exc!r}"),
            )
        return None


class Translated:
    """`UpstreamErrors.translated`'s block: a class, not a `contextmanager` (that is a
    generator and two more frames around every upstream request)."""

    __slots__ = ("_errors", "_progress")

    def __init__(self, errors: UpstreamErrors, progress: StreamProgress) -> None:
        self._errors = errors
        self._progress = progress

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            return
        error = self._errors.translate(exc, self._progress)
        if error is not None:
            raise error from exc


async def raise_for_status(
    response: aiohttp.ClientResponse,
    errors: UpstreamErrors,
    progress: StreamProgress,
    now: datetime,
) -> None:
    """Read an error response's body and raise its `ProviderError`; else mark streaming."""
    if response.status < 400:
        progress.streaming = True
        return
    body = await response.read()
    retry_after = parse_retry_after(response.headers, now)
    raise errors.for_status(response.status, body, retry_after)


def _error_object(body: Any) -> dict[str, Any]:
    payload = body
    if isinstance(body, bytes | str):
        try:
            payload = json.loads(body)
        except ValueError:
            return {}
    if isinstance(payload, dict):
        inner = payload.get("error", payload)
        if isinstance(inner, dict):
            return inner
    return {}


def upstream_message(body: Any) -> str:
    """The human part of an upstream error: `error.message` if there is one, else the text."""
    payload = body
    if isinstance(body, bytes | str):
        try:
            payload = json.loads(body)
        except ValueError:
            text = body.decode(errors="replace") if isinstance(body, bytes) else body
            return text.strip()
    if isinstance(payload, dict):
        inner = payload.get("error", payload)
        if isinstance(inner, dict):
            kind, message = inner.get("type"), inner.get("message")
            if message:
                return f"{kind}: {message}" if kind else str(message)
        elif isinstance(inner, str):
            return inner
    return json.dumps(payload)[:DETAIL_MAX_CHARS]
