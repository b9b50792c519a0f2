"""Chunks out as OpenAI `chat.completion.chunk` objects.

An OpenAI-compatible upstream's chunk goes out as it came, with only `id` (the hub's request
id) and `model` (the alias the client asked for) set, and without the usage the hub asked
for on the client's behalf when the client did not. Chunks of other providers (Anthropic,
the demo) are written in the same shape from their typed fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol

from hub import fastjson
from hub.model import ChatChunk, ChoiceDelta, Usage


class Assembler(Protocol):
    """What a plain answer is assembled by (connectors/openai_api/assemble.py)."""

    def add(self, chunk: Mapping[str, Any]) -> None: ...
    def completion(self) -> dict[str, Any]: ...


def usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


class ChunkWriter:
    """Turns the hub's chunks into the client's chunk objects, for one response."""

    def __init__(self, *, request_id: str, alias: str, created: int, include_usage: bool) -> None:
        self._id = request_id
        self._alias = alias
        self._created = created
        self._include_usage = include_usage
        self._announced: set[int] = set()  # choices whose role went out
        # An upstream's chunk went into a plain answer as it came: the next one may too, added
        # by the caller (`assembler.add(chunk.wire)`, when it has one) without `assemble`.
        self.wired = False

    def objects(self, chunk: ChatChunk) -> list[dict[str, Any]]:
        """The chunk objects to send for one hub chunk (none, for a usage the client did not
        ask for)."""
        if chunk.wire is not None:
            return self._passed_on(chunk.wire)
        out: list[dict[str, Any]] = []
        if chunk.choices:
            choices = []
            for choice in chunk.choices:
                if choice.index not in self._announced:
                    self._announced.add(choice.index)
                    choice = dataclasses.replace(choice, role=choice.role or "assistant")
                choices.append(_choice_json(choice))
            out.append(self._base(choices=choices))
        if chunk.usage is not None and self._include_usage:
            out.append(self._base(choices=[], usage=usage_json(chunk.usage)))
        return out

    def events(self, chunk: ChatChunk) -> bytes:
        """`objects(chunk)` as the SSE events to write: an upstream's chunk in one step (the
        per-chunk path of a streamed answer)."""
        wire = chunk.wire
        if wire is None or not self._include_usage:
            return b"".join([sse(obj) for obj in self.objects(chunk)])
        return b"data: " + fastjson.dumps({**wire, "id": self._id, "model": self._alias}) + b"\n\n"

    def assemble(self, chunk: ChatChunk, assembler: Assembler) -> None:
        """Add one hub chunk to a plain answer: an upstream's chunk as it came, not copied to
        set `id` and `model` as `objects` does (`completed` sets them once, at the end)."""
        if chunk.wire is not None and self._include_usage:  # nothing of it is left out
            assembler.add(chunk.wire)
            self.wired = True
            return
        for obj in self.objects(chunk):
            assembler.add(obj)

    def completed(self, assembler: Assembler) -> dict[str, Any]:
        """The plain answer `assemble` built: the upstream's `id` and `model` replaced by the
        hub's request id and the alias, as `objects` would have replaced them per chunk."""
        completion = assembler.completion()
        if self.wired:
            completion["id"] = self._id
            completion["model"] = self._alias
        return completion

    def _passed_on(self, wire: Mapping[str, Any]) -> list[dict[str, Any]]:
        obj = {**wire, "id": self._id, "model": self._alias}
        if not self._include_usage:
            usage = obj.pop("usage", None)
            if usage is not None and not obj.get("choices"):
                return []  # the usage chunk the hub asked for on its own account
        return [obj]

    def _base(self, **fields: Any) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._alias,
            **fields,
        }


def _choice_json(choice: ChoiceDelta) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if choice.role is not None:
        delta["role"] = choice.role
    if choice.text or choice.role is not None:
        delta["content"] = choice.text
    if choice.refusal or choice.role is not None:
        delta["refusal"] = choice.refusal or None  # OpenAI announces `refusal: null` first
    if choice.tool_calls:
        calls = []
        for call in choice.tool_calls:
            item: dict[str, Any] = {"index": call.index}
            function: dict[str, Any] = {"arguments": call.arguments}
            if call.id is not None:
                item["id"] = call.id
                item["type"] = "function"
            if call.name is not None:
                function["name"] = call.name
            item["function"] = function
            calls.append(item)
        delta["tool_calls"] = calls
    return {
        "index": choice.index,
        "delta": delta,
        "logprobs": choice.logprobs,
        "finish_reason": choice.finish_reason,
    }


def sse(body: Any) -> bytes:
    return b"data: " + fastjson.dumps(body) + b"\n\n"
