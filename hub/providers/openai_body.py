"""An OpenAI chat-completions body from a normalized request that did not come as OpenAI JSON
(Slack, Discord, webhooks, Zapier, `hub ask`)."""

from __future__ import annotations

import base64
from typing import Any

from hub.model import (
    AudioPart,
    ChatRequest,
    ContentPart,
    ImagePart,
    Message,
    NamedToolChoice,
    TextPart,
)


def data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def openai_part(part: ContentPart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        url = data_url(part.media_type, part.data) if part.data is not None else part.url or ""
        image: dict[str, Any] = {"url": url}
        if part.detail is not None:
            image["detail"] = part.detail
        return {"type": "image_url", "image_url": image}
    if isinstance(part, AudioPart):
        audio = {"data": base64.b64encode(part.data).decode(), "format": part.format}
        return {"type": "input_audio", "input_audio": audio}
    file: dict[str, Any] = {}
    if part.file_id is not None:
        file["file_id"] = part.file_id
    if part.data is not None:
        file["file_data"] = data_url(part.media_type or "application/octet-stream", part.data)
    if part.filename is not None:
        file["filename"] = part.filename
    return {"type": "file", "file": file}


def openai_message(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role}
    parts = message.content
    if all(isinstance(p, TextPart) for p in parts):
        text = message.plain_text
        out["content"] = text if text or not message.tool_calls else None
    else:
        out["content"] = [openai_part(p) for p in parts if not _empty(p)]
    if message.name is not None:
        out["name"] = message.name
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": c.type,
                "function": {"name": c.name, "arguments": c.arguments},
            }
            for c in message.tool_calls
        ]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    if message.refusal is not None:
        out["refusal"] = message.refusal
    return out


def _empty(part: ContentPart) -> bool:
    return isinstance(part, TextPart) and not part.text


def build_body(request: ChatRequest) -> dict[str, Any]:
    options = request.options
    body: dict[str, Any] = {"messages": [openai_message(m) for m in request.messages]}
    if options.temperature is not None:
        body["temperature"] = options.temperature
    if options.top_p is not None:
        body["top_p"] = options.top_p
    if options.stop:
        body["stop"] = list(options.stop)
    if request.tools:
        body["tools"] = [_tool(t) for t in request.tools]
    if isinstance(request.tool_choice, NamedToolChoice):
        body["tool_choice"] = {"type": "function", "function": {"name": request.tool_choice.name}}
    elif request.tool_choice is not None:
        body["tool_choice"] = request.tool_choice
    fmt = request.response_format
    if fmt is not None:
        body["response_format"] = {"type": fmt.type}
        if fmt.type == "json_schema":
            spec: dict[str, Any] = {"name": fmt.name}
            for key, value in (
                ("description", fmt.description),
                ("schema", fmt.schema),
                ("strict", fmt.strict),
            ):
                if value is not None:
                    spec[key] = value
            body["response_format"]["json_schema"] = spec
    params = request.params
    for name in params.__dataclass_fields__:
        value = getattr(params, name)
        if name != "extra" and value is not None:
            body[name] = list(value) if isinstance(value, tuple) else value
    body.update(params.extra)
    return body


def _tool(tool: Any) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        function["description"] = tool.description
    if tool.parameters is not None:
        function["parameters"] = tool.parameters
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}
