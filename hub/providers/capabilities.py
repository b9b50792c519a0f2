"""Which parameters a request sets, by the name the client used: what a provider that cannot
honour one refuses (400 naming it) or, with `drop_params`, leaves out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hub.model import AudioPart, ChatParams, ChatRequest, FilePart

# A value equal to the API's default asks for nothing, so any provider honours it.
_DEFAULTS: dict[str, tuple[Any, ...]] = {
    "n": (1,),
    "logprobs": (False,),
    "top_logprobs": (0,),
    "frequency_penalty": (0, 0.0),
    "presence_penalty": (0, 0.0),
    "logit_bias": ({},),
    "metadata": ({},),
    "store": (False,),
    "parallel_tool_calls": (True,),
    "modalities": (("text",),),
}


def set_params(params: ChatParams) -> Iterator[str]:
    """Names of the typed-bag parameters that ask for something, then unknown fields."""
    for name in params.__dataclass_fields__:
        if name == "extra":
            continue
        value = getattr(params, name)
        if value is not None and value not in _DEFAULTS.get(name, ()):
            yield name
    yield from params.extra


def content_parts(request: ChatRequest) -> Iterator[tuple[str, Any]]:
    """Every content part with its name (`messages[1].content[0]`)."""
    for i, message in enumerate(request.messages):
        for j, part in enumerate(message.content):
            yield f"messages[{i}].content[{j}]", part


def unsupported_by_text_only(request: ChatRequest) -> list[str]:
    """What a provider that answers text to text cannot honour (images are the model's
    `vision` setting's business, checked before any provider is asked)."""
    names = [
        name
        for name in set_params(request.params)
        if name not in ("user", "safety_identifier", "metadata", "store")
    ]
    if request.tools:
        names.append("tools")
    if request.tool_choice not in (None, "auto", "none"):
        names.append("tool_choice")
    if request.response_format is not None and request.response_format.type != "text":
        names.append("response_format")
    for where, part in content_parts(request):
        if isinstance(part, AudioPart | FilePart):
            names.append(where)
    return names
