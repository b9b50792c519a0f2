"""Request bodies as pydantic models: one model validates a JSON body and generates its
OpenAPI schema, so the description cannot drift from what is accepted.

The OpenAI API's, the admin API's, inbound webhooks' and Zapier's bodies all go through it.
A refusal is the hub's `InvalidField` naming the field as the body spells it, object keys
dotted and list positions included (`messages[0].content[1].type`, `events[2]`), with one
sentence. A field type or validator that wants a sentence of its own raises `refuse(...)`
(error type `hub_...`): its message starts with a verb ("must be ...") and follows the field's
name, or, for a rule of the whole body that names one of its fields (`field=`), it is the
whole sentence.
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
_OURS = "hub_"  # the error types of our own refusals


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


def refuse(kind: str, message: str, *, field: str | None = None) -> PydanticCustomError:
    """A refusal in our words, raised from a validator. Without `field`, `message` follows
    the field's name ("must be ..."); with it, `message` is a whole sentence and `field`
    (relative to where the validator ran, "" for there) is the field it names."""
    return PydanticCustomError(_OURS + kind, message, {} if field is None else {"field": field})


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


def validate_body(model: type[M], body: Any, *, rephrase: bool = False) -> M:
    """`body` (parsed JSON: `parse_json_object`, hub.untrusted.load_json) as `model`, or
    InvalidField; `rephrase` as for `invalid_field`."""
    if not isinstance(body, dict):
        raise InvalidField("body", "The body must be a JSON object.")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise invalid_field(exc, body, model, rephrase=rephrase) from None


def invalid_field(
    exc: ValidationError, body: Any, model: type[BaseModel], *, rephrase: bool = False
) -> InvalidField:
    """The problem, named as the body names fields: `messages[0].content[1].type`. Of the
    errors of a union's members, the one that got furthest into the body says most.

    pydantic's own sentence is kept ("'n': input should be a valid integer."): the OpenAI
    API's, webhooks' and Zapier's messages are that, and clients match on them. `rephrase`
    (the admin API) says it in the hub's words instead: "must be ...", the known fields of
    an unknown one, a Literal's options, "must be an object"."""
    errors = exc.errors(include_url=False)
    depth = [len(_path(e["loc"], body).replace("[", ".").split(".")) for e in errors]
    error = errors[depth.index(max(depth))]
    where = _path(error["loc"], body)
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind.startswith(_OURS):
        if "field" not in ctx:
            return InvalidField(where or "body", f"'{where or 'body'}' {error['msg']}.")
        named = str(ctx["field"])
        where = f"{where}.{named}" if where and named else where or named or "body"
        return InvalidField(where, str(error["msg"]))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = str(ctx.get("discriminator", "")).strip("'")
        where = f"{where}.{tag}" if where else tag
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        return InvalidField(where, f"'{where}' must be one of {expected}.")
    where = where or "body"
    if kind == "missing":
        return InvalidField(where, f"'{where}' is required.")
    if rephrase and (said := _rephrased(error, where, model)) is not None:
        return InvalidField(where, said)
    message = str(error["msg"])
    return InvalidField(where, f"'{where}': {message[0].lower()}{message[1:]}.")


def _rephrased(error: ErrorDetails, where: str, model: type[BaseModel]) -> str | None:
    kind, msg, ctx = error["type"], str(error["msg"]), error.get("ctx") or {}
    if kind == "extra_forbidden":
        known = ", ".join(_fields_at(model, error["loc"][:-1]))
        return f"Unknown field '{where}'; known: {known}."
    if kind == "literal_error":
        options = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"'{where}' must be one of: {options}."
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"'{where}' must be an object."
    if msg.startswith("Input should be "):
        return f"'{where}' must be {msg.removeprefix('Input should be ')}."
    return None


def _path(loc: Any, body: Any) -> str:
    """pydantic's location, keeping only the steps that exist in the body (it also names the
    union member and tag it tried: `str`, `list[...]`, `user`)."""
    out, node = "", body
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            out, node = f"{out}[{part}]", node[part]
        elif isinstance(part, str) and isinstance(node, dict) and part in node:
            out, node = f"{out}.{part}" if out else part, node[part]
        elif isinstance(part, str) and isinstance(node, dict) and part == loc[-1]:
            out = f"{out}.{part}" if out else part  # a missing field: name it
    return out


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
    models: Mapping[str, type[BaseModel]], *, ref_prefix: str = "", null_defaults: bool = False
) -> dict[str, Schema]:
    """OpenAPI components of request bodies, by component name, from the models that
    validate them; a nested model is a component of its own named `ref_prefix` + its class
    name (the admin API's "Admin", so its names cannot meet another connector's).

    An optional field's `"default": null` is left out: for webhooks, Zapier and the OpenAI
    API null is the model's "absent", refused when sent. `null_defaults` keeps it (the admin
    API, where a field that defaults to null also accepts null: "no budget"; a field that
    refuses null there is `optional()`, whose schema has no default)."""
    template = "#/components/schemas/" + ref_prefix + "{model}"
    schemas: dict[str, Schema] = {}
    for name, model in models.items():
        generated = model.model_json_schema(ref_template=template)
        schemas |= {ref_prefix + n: part for n, part in generated.pop("$defs", {}).items()}
        schemas[name] = generated
    return {name: _tidied(schema, null_defaults) for name, schema in schemas.items()}


def _tidied(schema: Schema, null_defaults: bool) -> Schema:
    if "description" in schema:  # a docstring's line breaks are not the reader's
        schema = {**schema, "description": " ".join(schema["description"].split())}
    properties = schema.get("properties")
    if null_defaults or not isinstance(properties, dict):
        return schema
    cleaned = {
        key: {k: v for k, v in prop.items() if not (k == "default" and v is None)}
        for key, prop in properties.items()
    }
    return {**schema, "properties": cleaned}


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
