"""A normalized request as an Anthropic Messages API body.

- system and developer messages become `system`; tool messages become `tool_result` blocks
  in a user turn (consecutive ones share the turn, as parallel calls need); assistant
  `tool_calls` become `tool_use` blocks; images, PDFs (`file` parts) become image and
  document blocks; consecutive turns of one role merge; empty text blocks and empty turns
  are never sent (Anthropic refuses both).
- `tools`, `tool_choice` (auto, none, required → any, a named function → tool),
  `parallel_tool_calls: false` → `disable_parallel_tool_use`, `stop` → `stop_sequences`,
  `user` → `metadata.user_id`.
- `response_format` json_schema (or json_object) becomes a tool the model is made to call;
  its input is the answer, passed back as content (`JSON_TOOL`).

What Anthropic cannot honour is listed by `unsupported()` under the client's name for it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hub.errors import InvalidField
from hub.model import (
    AudioPart,
    ChatRequest,
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    NamedToolChoice,
    TextPart,
)
from hub.providers.capabilities import content_parts, set_params

JSON_TOOL = "json_response"  # the forced tool that carries a response_format answer
# Parameters Anthropic has (translated above); every other set parameter is unsupported.
_HONOURED = frozenset({"user", "safety_identifier", "parallel_tool_calls"})
_DOCUMENT_TYPES = frozenset({"application/pdf", "text/plain"})


def unsupported(request: ChatRequest) -> list[str]:
    names = [n for n in set_params(request.params) if n not in _HONOURED]
    if request.params.service_tier == "auto":
        names.remove("service_tier")  # Anthropic's default too
    for i, message in enumerate(request.messages):
        if message.name is not None:
            names.append(f"messages[{i}].name")
    for where, part in content_parts(request):
        if isinstance(part, AudioPart):
            names.append(where)
        elif isinstance(part, FilePart) and (
            part.data is None or part.media_type not in _DOCUMENT_TYPES
        ):
            names.append(where)
        elif isinstance(part, ImagePart) and part.detail not in (None, "auto"):
            names.append(f"{where}.image_url.detail")
    return names


def request_body(request: ChatRequest, *, model: str, max_tokens: int) -> dict[str, Any]:
    dropping = set(unsupported(request)) if request.drop_unsupported else set()
    system = "\n\n".join(
        m.plain_text for m in request.messages if m.role in ("system", "developer")
    )
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "messages": _turns(request, dropping),
        "stream": True,
    }
    if system:
        body["system"] = system
    options, params = request.options, request.params
    if options.temperature is not None:
        body["temperature"] = options.temperature
    if options.top_p is not None:
        body["top_p"] = options.top_p
    if options.stop:
        body["stop_sequences"] = list(options.stop)
    user = params.user or params.safety_identifier
    if user:
        body["metadata"] = {"user_id": user}
    if params.service_tier == "auto":
        body["service_tier"] = "auto"
    _add_tools(body, request)
    return body


def _turns(request: ChatRequest, dropping: set[str]) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    for i, message in enumerate(request.messages):
        if message.role in ("system", "developer"):
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message, i, dropping)
        if not blocks:
            continue  # an empty turn: Anthropic refuses `content: []`
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns


def _blocks(message: Message, index: int, dropping: set[str]) -> list[dict[str, Any]]:
    where = f"messages[{index}]"
    if message.role == "tool":
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
        if message.plain_text:
            result["content"] = message.plain_text
        return [result]
    blocks = []
    for j, part in enumerate(message.content):
        name = f"{where}.content[{j}]"
        if name in dropping or (isinstance(part, TextPart) and not part.text):
            continue
        blocks.append(content_block(part))
    for j, call in enumerate(message.tool_calls):
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id,
                "name": call.name,
                "input": _arguments(call.arguments, f"{where}.tool_calls[{j}].function.arguments"),
            }
        )
    return blocks


def content_block(part: ContentPart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        if part.data is not None:
            source = _base64(part.media_type, part.data)
        else:
            source = {"type": "url", "url": part.url or ""}
        return {"type": "image", "source": source}
    if isinstance(part, FilePart) and part.data is not None:
        if part.media_type == "text/plain":
            source = {"type": "text", "media_type": "text/plain", "data": part.data.decode()}
        else:
            source = _base64(part.media_type or "application/pdf", part.data)
        block: dict[str, Any] = {"type": "document", "source": source}
        if part.filename:
            block["title"] = part.filename
        return block
    raise ValueError(f"no Anthropic block for {type(part).__name__}")  # listed as unsupported


def _base64(media_type: str, data: bytes) -> dict[str, Any]:
    return {"type": "base64", "media_type": media_type, "data": base64.b64encode(data).decode()}


def _arguments(arguments: str, where: str) -> Any:
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        raise InvalidField(where, f"'{where}' is not valid JSON.") from None
    if not isinstance(value, dict):
        raise InvalidField(where, f"'{where}' must be a JSON object.")
    return value


def _add_tools(body: dict[str, Any], request: ChatRequest) -> None:
    tools = [
        {
            "name": t.name,
            **({"description": t.description} if t.description else {}),
            "input_schema": dict(t.parameters or {"type": "object", "properties": {}}),
        }
        for t in request.tools
    ]
    choice: dict[str, Any] | None = None
    if isinstance(request.tool_choice, NamedToolChoice):
        choice = {"type": "tool", "name": request.tool_choice.name}
    elif request.tool_choice == "required":
        choice = {"type": "any"}
    elif request.tool_choice in ("auto", "none"):
        choice = {"type": request.tool_choice}
    fmt = request.response_format
    if fmt is not None and fmt.type != "text":
        schema = dict(fmt.schema or {}) if fmt.type == "json_schema" else {}
        schema.setdefault("type", "object")
        description = fmt.description or (
            "Give the answer by calling this tool: its input is the answer, as JSON matching "
            "the schema."
        )
        tools.append({"name": JSON_TOOL, "description": description, "input_schema": schema})
        if not request.tools:
            choice = {"type": "tool", "name": JSON_TOOL}
    if request.params.parallel_tool_calls is False and tools:
        choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
    if tools:
        body["tools"] = tools
        if choice is not None:
            body["tool_choice"] = choice


def answers_as_json(request: ChatRequest) -> bool:
    fmt = request.response_format
    return fmt is not None and fmt.type != "text"
