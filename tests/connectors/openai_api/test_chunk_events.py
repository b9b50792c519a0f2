"""A streamed answer's per-chunk write (`ChunkWriter.events`, #14): the bytes `objects` and
`sse` make, chunk by chunk, for the upstream's chunks passed on (their unknown fields, a
number past 64 bits, the usage asked for or not) and the hub's own; and the same writes with
an idempotency recorder (which keeps the objects) as without."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors.openai_api.chunks import ChunkWriter, sse
from connectors.openai_api.idempotent import Recorder
from connectors.openai_api.routes import _stream
from hub.model import ChatChunk, ChoiceDelta, Usage


def wire(**fields: Any) -> ChatChunk:
    body = {"id": "up-1", "object": "chat.completion.chunk", "model": "m", **fields}
    return ChatChunk(wire=body)


CHUNKS = [
    wire(choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}}]),
    wire(choices=[{"index": 0, "delta": {"content": "hé"}, "logprobs": None}], extra={"a": 1}),
    wire(choices=[], big=2**70, obfuscation="x"),  # past orjson's 64 bits: json.dumps writes it
    wire(choices=[], usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}),
    ChatChunk(choices=(ChoiceDelta(text="own", finish_reason="stop"),), usage=Usage(1, 2)),
    ChatChunk(usage=Usage(1, 2)),
]


@pytest.mark.parametrize("include_usage", [True, False])
@pytest.mark.parametrize("chunk", CHUNKS)
def test_events_are_the_objects_as_sse(chunk: ChatChunk, include_usage: bool) -> None:
    def writer() -> ChunkWriter:
        return ChunkWriter(request_id="r-1", alias="gpt", created=7, include_usage=include_usage)

    expected = b"".join(sse(obj) for obj in writer().objects(chunk))
    assert writer().events(chunk) == expected


class Sink:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def write(self, data: bytes) -> None:
        self.sent.append(data)


async def written(recorder: Recorder | None, include_usage: bool) -> list[bytes]:
    async def rest() -> AsyncIterator[ChatChunk]:
        for position, chunk in enumerate(CHUNKS[1:]):
            yield ChatChunk(choices=chunk.choices, usage=chunk.usage, wire=chunk.wire,
                            more=position % 2 == 0)  # fmt: skip

    writer = ChunkWriter(request_id="r-1", alias="gpt", created=7, include_usage=include_usage)
    sink = Sink()
    await _stream(sink, writer, CHUNKS[0], rest(), recorder)  # type: ignore[arg-type]
    return sink.sent


@pytest.mark.parametrize("include_usage", [True, False])
async def test_the_writes_with_a_recorder_are_the_writes_without(include_usage: bool) -> None:
    recorder = Recorder()
    with_recorder = await written(recorder, include_usage)
    assert await written(None, include_usage) == with_recorder
    assert b"".join(with_recorder) == (
        b"".join(sse(obj) for obj in recorder.objects) + b"data: [DONE]\n\n"
    )
    assert len(with_recorder) == 4  # the first alone, then the chunks in pairs (`more`)
