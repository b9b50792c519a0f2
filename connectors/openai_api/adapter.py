"""OpenAI chat-completions JSON in, `ChatRequest` out; every rejection names the field."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from hub.errors import BadRequest
from hub.model import (
    Caller,
    ChatOptions,
    ChatRequest,
    ContentPart,
    ImagePart,
    Message,
    Origin,
    Role,
    TextPart,
)

_ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
}
_DATA_URL = re.compile(r"^data:(image/[a-z0-9.+-]+);base64,(.*)$", re.S)


class InvalidField(BadRequest):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def parse_chat_request(body: Any, *, caller: Caller, request_id: str | None) -> ChatRequest:
    if not isinstance(body, dict):
        raise InvalidField("", "The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidField(
            "model", "'model' is required: a model alias such as those in /v1/models."
        )
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise InvalidField("messages", "'messages' must be a non-empty array.")
    messages = tuple(_message(m, i) for i, m in enumerate(raw_messages))
    return ChatRequest(
        caller=caller,
        origin=Origin(
            connector="openai_api",
            user=_optional_str(body, "user"),
            external_id=request_id,
        ),
        messages=messages,
        model=model,
        options=_options(body),
    )


def wants_usage_in_stream(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


def _options(body: dict[str, Any]) -> ChatOptions:
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise InvalidField("max_tokens", "'max_tokens' must be a positive integer.")
    temperature = _number(body, "temperature", 0, 2)
    top_p = _number(body, "top_p", 0, 1)
    stop = body.get("stop")
    if stop is None:
        stops: tuple[str, ...] = ()
    elif isinstance(stop, str):
        stops = (stop,)
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop) and len(stop) <= 4:
        stops = tuple(stop)
    else:
        raise InvalidField("stop", "'stop' must be a string or an array of up to 4 strings.")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidField("stream", "'stream' must be true or false.")
    return ChatOptions(
        stream=stream, max_tokens=max_tokens, temperature=temperature, top_p=top_p, stop=stops
    )


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidField(name, f"'{name}' must be a number from {low} to {high}.")
    return float(value)


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField(name, f"'{name}' must be a string.")
    return value[:100]


def _message(raw: Any, index: int) -> Message:
    where = f"messages[{index}]"
    if not isinstance(raw, dict):
        raise InvalidField(where, f"'{where}' must be an object.")
    role = _ROLES.get(raw.get("role", ""))
    if role is None:
        raise InvalidField(
            f"{where}.role", f"'{where}.role' must be one of system, developer, user, assistant."
        )
    content = raw.get("content")
    if isinstance(content, str):
        return Message(role=role, content=(TextPart(content),))
    if content is None and role == "assistant":
        return Message(role=role, content=(TextPart(""),))
    if not isinstance(content, list) or not content:
        raise InvalidField(f"{where}.content", f"'{where}.content' must be a string or an array.")
    return Message(
        role=role, content=tuple(_part(p, f"{where}.content[{i}]") for i, p in enumerate(content))
    )


def _part(raw: Any, where: str) -> ContentPart:
    if not isinstance(raw, dict):
        raise InvalidField(where, f"'{where}' must be an object.")
    kind = raw.get("type")
    if kind == "text" and isinstance(raw.get("text"), str):
        return TextPart(raw["text"])
    if kind == "image_url":
        image = raw.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        if not isinstance(url, str):
            raise InvalidField(f"{where}.image_url", f"'{where}.image_url.url' must be a string.")
        match = _DATA_URL.match(url)
        if match:
            try:
                data = base64.b64decode(match.group(2), validate=True)
            except binascii.Error as exc:
                raise InvalidField(
                    f"{where}.image_url", "The image data URL is not valid base64."
                ) from exc
            return ImagePart(media_type=match.group(1), data=data)
        if url.startswith(("https://", "http://")):
            return ImagePart(media_type="image/*", url=url)
        raise InvalidField(f"{where}.image_url", "Images must be https URLs or base64 data URLs.")
    raise InvalidField(f"{where}.type", f"'{where}.type' must be 'text' or 'image_url'.")
