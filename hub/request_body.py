"""Reading a request body within a per-route limit, so a stranger cannot make the hub buffer it.

A route checks what it can from the headers first (signature present and well formed,
timestamp fresh, key valid), then reads the body with `read_body`: a declared Content-Length
over the limit is refused before one byte is read, and a chunked body is refused as soon as
it passes the limit. Until the handler reads, aiohttp holds at most its read buffer (64 KiB,
then it stops reading the socket), so an unverified request costs that and no more.

After a refusal aiohttp reads and discards the rest of the body for a few seconds (so the
client can see the 413), never storing it.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from hub.errors import HubError, InvalidField

# Set by hub.serving from `[server] body_timeout_s`; an app served otherwise uses the default.
BODY_TIMEOUT_KEY = web.AppKey("body_timeout_s", float)
DEFAULT_BODY_TIMEOUT_S = 60.0


class BodyTooLarge(InvalidField):
    """The body is larger than the route accepts (413)."""

    status = 413
    code = "request_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            "body", f"The request body is larger than {limit:,} bytes, the most this route accepts."
        )
        self.limit = limit


class BodyTimeout(HubError):
    """The client did not send the whole body in time (408); the connection is closed."""

    status = 408
    code = "request_timeout"

    def __init__(self, seconds: float) -> None:
        super().__init__(f"The request body did not arrive within {seconds:g} seconds.")


def refuse_declared(request: web.Request, *, limit: int) -> None:
    """BodyTooLarge when the request says it is longer than `limit`; nothing is read."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit)


async def read_body(request: web.Request, *, limit: int) -> bytes:
    """The whole body, at most `limit` bytes; BodyTooLarge as soon as it is longer,
    BodyTimeout when it takes longer than `[server] body_timeout_s`."""
    refuse_declared(request, limit=limit)
    if request.content.is_eof():  # all of it arrived already: nothing to wait for
        return await _read_within(request, limit=limit)
    seconds = request.config_dict.get(BODY_TIMEOUT_KEY, DEFAULT_BODY_TIMEOUT_S)
    try:
        async with asyncio.timeout(seconds):
            return await _read_within(request, limit=limit)
    except TimeoutError as exc:
        raise BodyTimeout(seconds) from exc


async def _read_within(request: web.Request, *, limit: int) -> bytes:
    content = request.content
    first = await content.readany()
    if len(first) > limit:
        raise BodyTooLarge(limit)
    if not first or content.at_eof():  # the usual body, in one read: no copy
        return first
    received = bytearray(first)
    while True:
        chunk = await request.content.readany()
        if not chunk:
            return bytes(received)
        if len(received) + len(chunk) > limit:
            raise BodyTooLarge(limit)
        received += chunk
