"""Request bodies as pydantic models: one model validates a JSON body and generates its
OpenAPI schema, so the description cannot drift from what is accepted.

A refusal is the hub's `InvalidField` naming the field: object keys dotted
(`notice_channel.platform`), list positions left out of `field` (`events`) but said in the
message (`'events[2]' must be one of: ...`). Field types that want a message of their own raise
`PydanticCustomError` whose type starts with `hub_` and whose message starts with a verb
("must be ..."); `invalid_field` puts the field's name in front.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, ErrorDetails, PydanticCustomError, core_schema

from hub.errors import InvalidField

M = TypeVar("M", bound=BaseModel)
Schema = dict[str, Any]


class BodyModel(BaseModel):
    """Strict types (`true` is not 1, "5" is not 5) and unknown fields refused, so a typo does
    not pass silently."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: `X | None` needs a hash
class Rule:
    """Field metadata that checks the raw JSON value before the type does, with a message of
    its own, and adds what it checks to the JSON Schema: `Annotated[int, integer(1, 9)]`."""

    check: Callable[[Any], Any]
    schema: Mapping[str, Any] = field(default_factory=dict)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(schema) | dict(self.schema)


def refuse(kind: str, message: str) -> PydanticCustomError:
    """A refusal with our message; `message` follows the field's name ("must be ...")."""
    return PydanticCustomError("hub_" + kind, message)


def integer(low: int, high: int) -> Rule:
    """An integer from low to high; not a bool, a float or a string of digits."""

    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise refuse("integer", f"must be an integer from {low} to {high}")
        return value

    return Rule(check, {"minimum": low, "maximum": high})


def text(min_len: int, max_len: int) -> Rule:
    """A string of min_len to max_len characters that both databases store."""

    def check(value: Any) -> Any:
        if not isinstance(value, str) or not storable(value):
            raise refuse("text", "must be a string of valid Unicode text")
        if not min_len <= len(value) <= max_len:
            raise refuse("text_length", f"must be {min_len} to {max_len} characters long")
        return value

    return Rule(check, {"minLength": min_len, "maxLength": max_len})


def one_of(options: Sequence[str]) -> Rule:
    choices = tuple(options)

    def check(value: Any) -> Any:
        if not isinstance(value, str) or value not in choices:
            raise refuse("choice", f"must be one of: {', '.join(choices)}")
        return value

    return Rule(check, {"enum": list(choices)})


def array(*, max_items: int, min_items: int = 0, of: str = "strings") -> Rule:
    def check(value: Any) -> Any:
        if not isinstance(value, list) or not min_items <= len(value) <= max_items:
            least = f"{min_items} to " if min_items else "up to "
            raise refuse("array", f"must be an array of {least}{max_items} {of}")
        return value

    bounds = {"maxItems": max_items} | ({"minItems": min_items} if min_items else {})
    return Rule(check, bounds)


def storable(value: str) -> bool:
    """Text both databases accept: no NUL (PostgreSQL refuses it), no lone surrogate (JSON
    allows both)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def optional() -> Any:
    """A field that may be left out (None: unchanged) but not sent as null; its schema has no
    default, since there is none to describe."""
    return Field(default=None, json_schema_extra=_no_default)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def parse_json_object(raw: bytes, *, empty: bytes | None = b"{}") -> dict[str, Any]:
    """The body as a JSON object; NaN and Infinity are not JSON numbers. An empty body is
    `empty` (None: refused)."""
    try:
        data = json.loads(raw or empty or b"", parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidField("body", f"The body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidField("body", "The body must be a JSON object.")
    return data


def validate_body(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_field(exc, model) from None


def invalid_field(exc: ValidationError, model: type[BaseModel]) -> InvalidField:
    """The first problem of a validation error, as the field to name and one sentence."""
    error = exc.errors(include_url=False)[0]
    loc = error["loc"]
    field = ".".join(str(part) for part in loc if isinstance(part, str)) or "body"
    where = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" if i else str(part)
        for i, part in enumerate(loc)
    )
    return InvalidField(field, _message(error, where, model))


def _message(error: ErrorDetails, where: str, model: type[BaseModel]) -> str:
    kind, msg, ctx = error["type"], str(error["msg"]), error.get("ctx") or {}
    if kind == "missing":
        return f"'{where}' is required."
    if kind == "extra_forbidden":
        known = ", ".join(_fields_at(model, error["loc"][:-1]))
        return f"Unknown field '{where}'; known: {known}."
    if kind.startswith("hub_"):
        return f"'{where}' {msg}."
    if kind == "literal_error":
        options = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"'{where}' must be one of: {options}."
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"'{where}' must be an object."
    if msg.startswith("Input should be "):
        return f"'{where}' must be {msg.removeprefix('Input should be ')}."
    return f"'{where}': {msg[0].lower()}{msg[1:]}."


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the (nested) model at `loc`."""
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        nested = _model_in(info.annotation) if info is not None else None
        if nested is None:
            break
        model = nested
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def component_schemas(
    models: Mapping[str, type[BaseModel]], *, ref_prefix: str
) -> dict[str, Schema]:
    """OpenAPI components for the models, by component name; nested models become components
    of their own named `ref_prefix` + the class name."""
    template = "#/components/schemas/" + ref_prefix + "{model}"
    schemas: dict[str, Schema] = {}
    for name, model in models.items():
        generated = model.model_json_schema(ref_template=template)
        schemas |= {ref_prefix + n: part for n, part in generated.pop("$defs", {}).items()}
        schemas[name] = generated
    for schema in schemas.values():
        if "description" in schema:  # a docstring's line breaks are not the reader's
            schema["description"] = " ".join(schema["description"].split())
    return schemas


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
