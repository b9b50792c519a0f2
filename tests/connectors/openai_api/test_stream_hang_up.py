"""A client that hangs up is `cancelled` whichever write finds it gone, the last one too.

When an answer's last chunks arrive in one network read they are written together with
[DONE] after the loop; a client gone by then made that write raise ConnectionResetError, which
settled the request as `error` (seen under load in the two-process metrics scenario). aiohttp
raises that error from `StreamResponse.write` once the transport is closing; the response here
is a stand-in for one whose client left before a given write.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from connectors.openai_api.chunks import ChunkWriter
from connectors.openai_api.routes import _stream
from hub.errors import Cancelled
from hub.model import ChatChunk, ChoiceDelta


class GoneAfter:
    """A response whose client left after `writes` writes: later ones raise as aiohttp's do."""

    def __init__(self, writes: int) -> None:
        self.writes = writes
        self.sent: list[bytes] = []

    async def write(self, data: bytes) -> None:
        if len(self.sent) == self.writes:
            raise ConnectionResetError("Cannot write to closing transport")
        self.sent.append(data)


def text(value: str, *, more: bool = False, finish: str | None = None) -> ChatChunk:
    return ChatChunk(choices=(ChoiceDelta(text=value, finish_reason=finish),), more=more)


async def chunks(*items: ChatChunk) -> AsyncIterator[ChatChunk]:
    for item in items:
        yield item


@pytest.mark.parametrize("writes", [0, 1])
async def test_a_hang_up_before_the_last_write_is_cancelled(writes: int) -> None:
    writer = ChunkWriter(request_id="chatcmpl-1", alias="gpt", created=0, include_usage=False)
    response = GoneAfter(writes)
    # "one" is written alone; "two" and the end came in one read: written with [DONE].
    rest = chunks(text("two ", more=True), text("", finish="stop", more=True))
    with pytest.raises(Cancelled):
        await _stream(response, writer, text("one "), rest, None)  # type: ignore[arg-type]
    assert len(response.sent) == writes
    assert all(b"[DONE]" not in sent for sent in response.sent)


async def test_a_client_that_stays_gets_everything_and_done() -> None:
    writer = ChunkWriter(request_id="chatcmpl-1", alias="gpt", created=0, include_usage=False)
    response = GoneAfter(10)
    rest = chunks(text("two ", more=True), text("", finish="stop", more=True))
    await _stream(response, writer, text("one "), rest, None)  # type: ignore[arg-type]
    assert len(response.sent) == 2
    assert b'"content":"two "' in response.sent[1] and response.sent[1].endswith(b"[DONE]\n\n")
