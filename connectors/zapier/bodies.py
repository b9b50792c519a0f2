"""The Zapier API's request bodies: each model validates what the app posts (strict types: "5"
is not 5, `true` is not 1) and is the schema of the same name in /openapi.json
(connectors/zapier/openapi.py). Fields a model has no name for are ignored, as they always
were."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from connectors.zapier.events import TRIGGERS
from hub.body_models import refuse
from hub.untrusted import MAX_TOKENS


def _not_blank(value: Any) -> Any:
    if isinstance(value, str) and value and not value.strip():
        raise refuse("blank", "must not be blank")
    return value


def _known_event(value: Any) -> Any:
    if isinstance(value, str) and value not in EVENTS:
        raise refuse("event", f"must be one of {', '.join(TRIGGERS)} (or its hub event type)")
    return value


EVENTS = (*TRIGGERS, *TRIGGERS.values())


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)


class ZapierAsk(_Body):
    # `X | SkipJsonSchema[None] = None`: left out or null is "not given", and the schema says X.
    prompt: Annotated[
        str,
        Field(min_length=1, pattern=r"\S", description="The question to ask."),
        BeforeValidator(_not_blank),
    ]
    system: (
        Annotated[str, Field(description="Instructions (system prompt).")] | SkipJsonSchema[None]
    ) = None
    model: (
        Annotated[str, Field(min_length=1, description="Model alias (default: the hub's).")]
        | SkipJsonSchema[None]
    ) = None
    max_tokens: Annotated[int, Field(ge=1, le=MAX_TOKENS)] | SkipJsonSchema[None] = None
    metadata: Annotated[Any, Field(description="Echoed back untouched.")] = None


class ZapierSubscribe(_Body):
    event: Annotated[
        str,
        Field(
            json_schema_extra={"enum": list(EVENTS)},
            description="A Zapier trigger name, or the hub event type it stands for.",
        ),
        BeforeValidator(_known_event),
    ]
    target_url: Annotated[str, Field(json_schema_extra={"format": "uri"})]
