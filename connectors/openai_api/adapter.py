"""OpenAI chat-completions JSON in, `ChatRequest` out; every rejection names the field.

The body is validated by the typed model in `schema.py`, then converted once. The body
itself travels on as `ChatRequest.openai_body`, so an OpenAI-compatible upstream receives
what the client sent.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from connectors.openai_api import schema
from hub.body_models import invalid_field
from hub.embeddings import EmbeddingRequest
from hub.errors import InvalidField
from hub.model import (
    NO_PARAMS,
    AudioPart,
    Caller,
    ChatOptions,
    ChatParams,
    ChatRequest,
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    NamedToolChoice,
    Origin,
    ResponseFormat,
    TextPart,
    Tool,
    ToolCall,
    ToolChoice,
)

_DATA_URL = re.compile(r"^data:([a-z0-9.+-]+/[a-z0-9.+-]+);base64,(.*)$", re.S | re.I)
_PARAMS = frozenset(f for f in ChatParams.__dataclass_fields__ if f != "extra")


def parse_chat_request(body: Any, *, caller: Caller, request_id: str | None) -> ChatRequest:
    if not isinstance(body, dict):
        raise InvalidField("body", "The request body must be a JSON object.")
    try:
        parsed = schema.ChatCompletionRequest.model_validate(body)
    except ValidationError as exc:
        raise invalid_field(exc, body, schema.ChatCompletionRequest) from None
    messages = tuple(_message(m, i) for i, m in enumerate(parsed.messages))
    return ChatRequest(
        caller=caller,
        origin=Origin(
            connector="openai_api",
            user=(parsed.user or parsed.safety_identifier or "")[:100] or None,
            external_id=request_id,
        ),
        messages=messages,
        model=parsed.model,
        options=_options(parsed),
        tools=tuple(_tool(t) for t in parsed.tools or ()),
        tool_choice=_tool_choice(parsed.tool_choice),
        response_format=_response_format(parsed.response_format),
        params=_params(parsed),
        openai_body=body,
    )


def _options(parsed: schema.ChatCompletionRequest) -> ChatOptions:
    max_tokens = parsed.max_completion_tokens or parsed.max_tokens
    stop = parsed.stop
    if max_tokens is None and parsed.temperature is None and parsed.top_p is None and stop is None:
        # Most requests set none of them: one shared (frozen) ChatOptions per stream flag.
        return _STREAMED if parsed.stream else _PLAIN
    return ChatOptions(
        stream=parsed.stream,
        max_tokens=max_tokens,
        temperature=parsed.temperature,
        top_p=parsed.top_p,
        stop=(stop,) if isinstance(stop, str) else tuple(stop or ()),
    )


_STREAMED, _PLAIN = ChatOptions(stream=True), ChatOptions(stream=False)


def parse_embeddings_request(
    body: Any, *, caller: Caller, request_id: str | None
) -> EmbeddingRequest:
    if not isinstance(body, dict):
        raise InvalidField("body", "The request body must be a JSON object.")
    try:
        parsed = schema.EmbeddingsRequest.model_validate(body)
    except ValidationError as exc:
        raise invalid_field(exc, body, schema.EmbeddingsRequest) from None
    return EmbeddingRequest(
        caller=caller,
        origin=Origin(
            connector="openai_api", user=(parsed.user or "")[:100] or None, external_id=request_id
        ),
        model=parsed.model,
        body=body,
    )


def wants_usage_in_stream(body: Mapping[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


# -- messages -------------------------------------------------------------------------------


def _message(raw: Any, index: int) -> Message:
    content = raw.content
    parts: tuple[ContentPart, ...]
    if content is None:
        parts = ()
    elif isinstance(content, str):
        parts = (TextPart(content),)
    else:  # where each part is, for its refusal (text content has no parts to name)
        where = f"messages[{index}].content"
        parts = tuple(_part(p, f"{where}[{i}]") for i, p in enumerate(content))
    if isinstance(raw, schema.AssistantMessage):
        refusal = raw.refusal or next(
            (p.refusal for p in content or () if isinstance(p, schema.RefusalContent)), None
        )
        return Message(
            role="assistant",
            content=parts,
            name=raw.name,
            tool_calls=tuple(
                ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments)
                for c in raw.tool_calls or ()
            ),
            refusal=refusal,
        )
    if isinstance(raw, schema.ToolMessage):
        return Message(role="tool", content=parts, tool_call_id=raw.tool_call_id)
    return Message(role=raw.role, content=parts, name=raw.name)


def _part(raw: Any, where: str) -> ContentPart:
    if isinstance(raw, schema.TextContent):
        return TextPart(raw.text)
    if isinstance(raw, schema.RefusalContent):
        return TextPart("")  # carried as Message.refusal
    if isinstance(raw, schema.ImageContent):
        url, detail = raw.image_url.url, raw.image_url.detail
        if url.startswith("data:"):
            media_type, data = _data_url(url, f"{where}.image_url.url")
            if not media_type.lower().startswith("image/"):
                raise InvalidField(f"{where}.image_url.url", "The data URL is not an image.")
            return ImagePart(media_type=media_type.lower(), data=data, detail=detail)
        if url.startswith(("https://", "http://")):
            return ImagePart(media_type="image/*", url=url, detail=detail)
        raise InvalidField(
            f"{where}.image_url.url", "Images must be https URLs or base64 data URLs."
        )
    if isinstance(raw, schema.AudioContent):
        try:
            audio = base64.b64decode(raw.input_audio.data, validate=True)
        except binascii.Error:
            raise InvalidField(f"{where}.input_audio.data", "The audio is not base64.") from None
        return AudioPart(data=audio, format=raw.input_audio.format)
    file = raw.file
    if file.file_data is None and file.file_id is None:
        raise InvalidField(f"{where}.file", "A file part needs file_data or file_id.")
    if file.file_data is None:
        return FilePart(file_id=file.file_id, filename=file.filename)
    media_type, data = _data_url(file.file_data, f"{where}.file.file_data")
    return FilePart(media_type=media_type.lower(), data=data, filename=file.filename)


def _data_url(url: str, where: str) -> tuple[str, bytes]:
    match = _DATA_URL.match(url)
    if match is None:
        raise InvalidField(where, f"'{where}' must be a base64 data URL.")
    try:
        return match.group(1), base64.b64decode(match.group(2), validate=True)
    except binascii.Error:
        raise InvalidField(where, f"'{where}' is not valid base64.") from None


# -- tools, formats, parameters -------------------------------------------------------------


def _tool(raw: schema.FunctionTool) -> Tool:
    f = raw.function
    return Tool(name=f.name, description=f.description, parameters=f.parameters, strict=f.strict)


def _tool_choice(raw: Any) -> ToolChoice | None:
    if isinstance(raw, schema.NamedToolChoice):
        return NamedToolChoice(raw.function.name)
    choice: ToolChoice | None = raw
    return choice


def _response_format(raw: Any) -> ResponseFormat | None:
    if raw is None:
        return None
    if isinstance(raw, schema.JsonSchemaResponseFormat):
        spec = raw.json_schema
        return ResponseFormat(
            type="json_schema",
            name=spec.name,
            schema=spec.schema_,
            strict=spec.strict,
            description=spec.description,
        )
    return ResponseFormat(type=raw.type)


def _params(parsed: schema.ChatCompletionRequest) -> ChatParams:
    # Only what the body sent: a field left out is None in the schema and in ChatParams.
    sent = _PARAMS.intersection(parsed.model_fields_set)
    extra = parsed.model_extra
    if not sent and not extra:
        return NO_PARAMS  # most requests: one shared bag, not twenty defaults each
    values = {name: getattr(parsed, name) for name in sent}
    if values.get("modalities") is not None:
        values["modalities"] = tuple(values["modalities"])
    return ChatParams(**values, extra=dict(extra or {}))
