"""A verified webhook body in, `ChatRequest` out; every rejection names the field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.errors import BadRequest
from hub.model import Caller, ChatOptions, ChatRequest, Message, Origin, Role
from hub.untrusted import MAX_TOKENS, json_int, load_json

_ROLES: dict[str, Role] = {"system": "system", "user": "user", "assistant": "assistant"}


class InvalidField(BadRequest):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class WebhookCall:
    messages: tuple[Message, ...]
    model: str | None
    max_tokens: int | None
    metadata: Any  # echoed back untouched
    callback_url: str | None

    def chat_request(
        self, *, caller: Caller, hook_id: str, webhook_id: str, default_model: str | None
    ) -> ChatRequest:
        return ChatRequest(
            caller=caller,
            origin=Origin(connector="webhooks", channel=hook_id, external_id=webhook_id),
            messages=self.messages,
            model=self.model or default_model,
            options=ChatOptions(stream=True, max_tokens=self.max_tokens),
        )


def parse_call(raw: bytes) -> WebhookCall:
    body = load_json(raw)
    if not isinstance(body, dict):
        raise InvalidField("body", "The body must be a JSON object.")
    has_input, has_messages = "input" in body, "messages" in body
    if has_input == has_messages:
        raise InvalidField("input", "Send exactly one of 'input' (text) or 'messages' (array).")
    if has_input:
        text = body["input"]
        if not isinstance(text, str) or not text.strip():
            raise InvalidField("input", "'input' must be a non-empty string.")
        messages: tuple[Message, ...] = (Message.text("user", text),)
    else:
        messages = _messages(body["messages"])
    model = body.get("model")
    if model is not None and (not isinstance(model, str) or not model):
        raise InvalidField("model", "'model' must be a model alias (a non-empty string).")
    max_tokens = body.get("max_tokens")
    if max_tokens is not None:
        max_tokens = json_int(max_tokens, field="max_tokens", low=1, high=MAX_TOKENS)
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidField("metadata", "'metadata' must be a JSON object.")
    callback_url = body.get("callback_url")
    if callback_url is not None and (
        not isinstance(callback_url, str) or not callback_url.startswith(("https://", "http://"))
    ):
        raise InvalidField("callback_url", "'callback_url' must be an http(s) URL.")
    return WebhookCall(messages, model, max_tokens, metadata, callback_url)


def _messages(raw: Any) -> tuple[Message, ...]:
    if not isinstance(raw, list) or not raw:
        raise InvalidField("messages", "'messages' must be a non-empty array.")
    parsed = []
    for i, item in enumerate(raw):
        where = f"messages[{i}]"
        if not isinstance(item, dict):
            raise InvalidField(where, f"'{where}' must be an object with 'role' and 'content'.")
        given = item.get("role")
        role = _ROLES.get(given) if isinstance(given, str) else None
        if role is None:
            raise InvalidField(
                f"{where}.role", f"'{where}.role' must be system, user or assistant."
            )
        parsed.append(Message.text(role, _text(item.get("content"), f"{where}.content")))
    if parsed[-1].role != "user":
        raise InvalidField("messages", "The last message must have the role 'user'.")
    return tuple(parsed)


def _text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(
        isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
        for p in content
    ):
        return "".join(p["text"] for p in content)
    raise InvalidField(where, f"'{where}' must be a string or an array of text parts.")
