"""A plain `chat.completion` assembled from the chunk objects a streamed answer is made of.

The hub always streams upstream; a client that asked for a plain response gets what the
upstream would have answered: every choice, its content, refusal, tool calls (merged by
index) and logprobs, the finish reason, and the top-level fields (`system_fingerprint`,
`service_tier`, `usage`, and any the hub has no name for). String fields of a delta the hub
does not know (`reasoning_content`) are joined the same way content is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_CHUNK_ONLY = frozenset({"object", "choices", "obfuscation"})
_CHOICE_FIELDS = frozenset({"index", "delta", "logprobs", "finish_reason"})


class CompletionAssembler:
    def __init__(self) -> None:
        self._top: dict[str, Any] = {}
        self._choices: dict[int, _Choice] = {}

    def add(self, chunk: Mapping[str, Any]) -> None:
        top = self._top
        # A field's last value that is not null wins (null only while there is none); the
        # chunk-only fields are dropped once, in `completion`, not looked up per field here.
        if None in chunk.values():
            for key, value in chunk.items():
                if value is not None or key not in top:
                    top[key] = value
        else:
            top.update(chunk)
        choices = chunk["choices"] if "choices" in chunk else None
        if choices:
            known = self._choices
            for position, raw in enumerate(choices):
                index = raw["index"] if "index" in raw else position
                # Not built per chunk only to be dropped by setdefault; no `get` call.
                choice = known[index] if index in known else None
                if choice is None:
                    choice = known[index] = _Choice(index)
                choice.add(raw)

    def completion(self) -> dict[str, Any]:
        top = {k: v for k, v in self._top.items() if k not in _CHUNK_ONLY}
        if top.get("usage") is None:
            top.pop("usage", None)
        return {
            "id": top.pop("id", None),
            "object": "chat.completion",
            "created": top.pop("created", 0),
            "model": top.pop("model", None),
            "choices": [self._choices[i].json() for i in sorted(self._choices)],
            **top,
        }


class _Choice:
    def __init__(self, index: int) -> None:
        self.index = index
        self.message: dict[str, Any] = {}
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.logprobs: dict[str, Any] | None = None
        self.finish_reason: str | None = None
        self.extra: dict[str, Any] = {}

    def add(self, raw: Mapping[str, Any]) -> None:
        # One pass over the choice's fields (a lookup each of the three it names, and a
        # check for others, cost four calls a chunk); each field updates its own part.
        message = self.message
        for field, given in raw.items():
            if field == "delta":
                for key, value in given.items() if given else ():
                    if key == "tool_calls":
                        for position, call in enumerate(value or ()):
                            self._add_call(call, position)
                    elif type(value) is str or isinstance(value, str):
                        before = message[key] if key in message else None
                        if type(before) is _Pieces:
                            before.append(value)
                        else:
                            message[key] = _Pieces((value,))
                    elif value is not None or key not in message:
                        message[key] = value
            elif field == "finish_reason":
                if given is not None:
                    self.finish_reason = given
            elif field == "logprobs":
                if given is not None:
                    self._add_logprobs(given)
            elif field not in _CHOICE_FIELDS:
                self.extra[field] = given

    def _add_call(self, call: Mapping[str, Any], position: int) -> None:
        index = call.get("index", position)
        merged = self.tool_calls.setdefault(index, {"function": {}})
        for key, value in call.items():
            if key == "index":
                continue
            if key == "function" and isinstance(value, Mapping):
                function = merged["function"]
                for fkey, fvalue in value.items():
                    if isinstance(fvalue, str):  # joined once, at the end (as message fields)
                        before = function.get(fkey)
                        if type(before) is _Pieces:
                            before.append(fvalue)
                        else:
                            function[fkey] = _Pieces((fvalue,))
                    elif fvalue is not None or fkey not in function:
                        function[fkey] = fvalue
            elif value is not None:
                merged[key] = value

    def _add_logprobs(self, logprobs: Mapping[str, Any]) -> None:
        if self.logprobs is None:
            self.logprobs = {}
        for key, value in logprobs.items():
            before = self.logprobs.get(key)
            if isinstance(value, list) and isinstance(before, list):
                before.extend(value)  # a copy of the upstream's list, ours to extend
            elif value is not None or key not in self.logprobs:
                self.logprobs[key] = list(value) if isinstance(value, list) else value

    def json(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": None}
        for key, value in self.message.items():
            message[key] = "".join(value) if type(value) is _Pieces else value
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": c.get("id"), "type": c.get("type", "function"), **_rest(c)}
                for _, c in sorted(self.tool_calls.items())
            ]
        elif "tool_calls" in message and not message["tool_calls"]:
            del message["tool_calls"]
        return {
            "index": self.index,
            "message": message,
            "logprobs": self.logprobs,
            "finish_reason": self.finish_reason,
            **self.extra,
        }


class _Pieces(list[str]):
    """A string field's deltas (content, a tool call's arguments), joined once at the end:
    adding each to the text so far copied it every time, quadratic in the answer's length."""


def _rest(call: Mapping[str, Any]) -> dict[str, Any]:
    rest = {k: v for k, v in call.items() if k not in ("id", "type")}
    function = rest.get("function")
    if isinstance(function, dict):
        rest["function"] = {k: "".join(v) if type(v) is _Pieces else v for k, v in function.items()}
    return rest
