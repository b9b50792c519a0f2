"""Provider chunks reduced to what the older tests compare: the text deltas in order, then
one chunk with the finish reason and usage (role announcements and wire copies left out)."""

from __future__ import annotations

from collections.abc import Iterable

from hub.model import ChatChunk, Usage


def digest(chunks: Iterable[ChatChunk]) -> list[ChatChunk]:
    out: list[ChatChunk] = []
    usage: Usage | None = None
    finish: str | None = None
    for chunk in chunks:
        if chunk.text:
            out.append(ChatChunk.delta(chunk.text))
        finish = chunk.finish_reason or finish
        usage = chunk.usage or usage
    if usage is not None or finish is not None:
        out.append(ChatChunk.delta(usage=usage, finish_reason=finish))
    return out
