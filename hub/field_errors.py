"""A JSON body checked by a pydantic model; a refusal is the hub's `InvalidField` naming the
field as the body spells it (`messages[0].content[1].type`), with one sentence.

The bodies of the OpenAI API, inbound webhooks and Zapier are each one model that validates
them and generates their OpenAPI schema (`component_schemas`). A field type or validator that
wants a sentence of its own raises `refuse(...)`: its message follows the field's name
("must not be blank"), or, for a rule of the whole body that names one of its fields
(`field=`), it is the whole sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from hub.errors import InvalidField

M = TypeVar("M", bound=BaseModel)
Schema = dict[str, Any]
_OURS = "hub_"


def refuse(kind: str, message: str, *, field: str | None = None) -> PydanticCustomError:
    """A refusal in our words, raised from a validator. Without `field`, `message` follows
    the field's name; with it, `message` is a whole sentence and `field` (relative to where
    the validator ran, "" for there) is the field it names."""
    return PydanticCustomError(_OURS + kind, message, {} if field is None else {"field": field})


def validate_body(model: type[M], body: Any) -> M:
    """`body` (parsed JSON, e.g. by hub.untrusted.load_json) as `model`, or InvalidField."""
    if not isinstance(body, dict):
        raise InvalidField("body", "The body must be a JSON object.")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise invalid_field(exc, body) from None


def invalid_field(exc: ValidationError, body: Any) -> InvalidField:
    """The problem, named as the body names fields: `messages[0].content[1].type`. Of the
    errors of a union's members, the one that got furthest into the body says most."""
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
    if kind == "missing":
        return InvalidField(where, f"'{where}' is required.")
    message = str(error["msg"])
    return InvalidField(where, f"'{where}': {message[0].lower()}{message[1:]}.")


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


def component_schemas(models: Mapping[str, type[BaseModel]]) -> dict[str, Schema]:
    """OpenAPI components of request bodies, by component name, from the models that
    validate them; a nested model is a component named as its class. An optional field's
    `"default": null` is left out: null is the model's "absent", not a value to send."""
    schemas: dict[str, Schema] = {}
    for name, model in models.items():
        generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas |= {n: _no_null_defaults(part) for n, part in generated.pop("$defs", {}).items()}
        schemas[name] = _no_null_defaults(generated)
    return schemas


def _no_null_defaults(schema: Schema) -> Schema:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return schema
    cleaned = {
        key: {k: v for k, v in prop.items() if not (k == "default" and v is None)}
        for key, prop in properties.items()
    }
    return {**schema, "properties": cleaned}
