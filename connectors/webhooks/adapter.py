"""A verified webhook body in, `ChatRequest` out; every rejection names the field.

`WebhookCall` is the body: it validates what senders post (strict types: "5" is not 5, `true`
is not 1) and it is the `WebhookCall` schema of /openapi.json (connectors/webhooks/openapi.py).
Fields it has no name for are ignored, as they always were.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from hub.body_models import refuse, validate_body
from hub.model import Caller, ChatOptions, ChatRequest, Message, Origin
from hub.untrusted import MAX_TOKENS, load_json


def _not_blank(value: Any) -> Any:
    if isinstance(value, str) and value and not value.strip():
        raise refuse("blank", "must not be blank")
    return value


def _text_or_parts(value: Any) -> Any:
    if not isinstance(value, str | list):
        raise refuse("content", "must be a string or an array of text parts")
    return value


def _object(value: Any) -> Any:
    if value is not None and not isinstance(value, dict):
        raise refuse("object", "must be a JSON object")
    return value


def _http_url(value: Any) -> Any:
    if isinstance(value, str) and not value.startswith(("https://", "http://")):
        raise refuse("url", "must be an http(s) URL")
    return value


# `X | SkipJsonSchema[None] = None`: left out or null is "not given", and the schema says X.
NonBlank = Annotated[str, Field(min_length=1, pattern=r"\S"), BeforeValidator(_not_blank)]
ModelAlias = Annotated[str, Field(min_length=1, description="Model alias (default: the hook's).")]
MaxTokens = Annotated[int, Field(ge=1, le=MAX_TOKENS)]
Metadata = Annotated[
    dict[str, Any], Field(description="Echoed back untouched."), BeforeValidator(_object)
]
CallbackURL = Annotated[
    str,
    Field(
        pattern="^https?://",
        json_schema_extra={"format": "uri"},
        description="Answer later: 202 now, then a signed POST of the result to this URL.",
    ),
    BeforeValidator(_http_url),
]


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)


class WebhookTextPart(_Body):
    type: Literal["text"]
    text: str


class WebhookMessage(_Body):
    role: Literal["system", "user", "assistant"]
    content: Annotated[str | list[WebhookTextPart], BeforeValidator(_text_or_parts)]

    def as_message(self) -> Message:
        content = self.content
        text = content if isinstance(content, str) else "".join(p.text for p in content)
        return Message.text(self.role, text)


class WebhookCall(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "description": "Exactly one of `input` (text) or `messages`; the last message is "
            "the user's.",
            "oneOf": [{"required": ["input"]}, {"required": ["messages"]}],
        }
    )

    input: NonBlank | SkipJsonSchema[None] = None
    messages: Annotated[list[WebhookMessage], Field(min_length=1)] | SkipJsonSchema[None] = None
    model: ModelAlias | SkipJsonSchema[None] = None
    max_tokens: MaxTokens | SkipJsonSchema[None] = None
    metadata: Metadata | SkipJsonSchema[None] = None
    callback_url: CallbackURL | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _one_question(self) -> Self:
        sent = [name for name in ("input", "messages") if name in self.model_fields_set]
        if len(sent) != 1:
            raise refuse(
                "one_of",
                "Send exactly one of 'input' (text) or 'messages' (array).",
                field="input",
            )
        if self.input is None and self.messages is None:
            raise refuse("null", f"'{sent[0]}' must not be null.", field=sent[0])
        if self.messages is not None and self.messages[-1].role != "user":
            raise refuse(
                "last_message", "The last message must have the role 'user'.", field="messages"
            )
        return self

    def chat_messages(self) -> tuple[Message, ...]:
        if self.messages is None:
            assert self.input is not None  # _one_question: one of them is given
            return (Message.text("user", self.input),)
        return tuple(m.as_message() for m in self.messages)

    def chat_request(
        self, *, caller: Caller, hook_id: str, webhook_id: str, default_model: str | None
    ) -> ChatRequest:
        return ChatRequest(
            caller=caller,
            origin=Origin(connector="webhooks", channel=hook_id, external_id=webhook_id),
            messages=self.chat_messages(),
            model=self.model or default_model,
            options=ChatOptions(stream=True, max_tokens=self.max_tokens),
        )


def parse_call(raw: bytes) -> WebhookCall:
    return validate_body(WebhookCall, load_json(raw))
