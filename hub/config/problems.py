"""pydantic's validation errors, told as one sentence each: the file, the dotted path of the
key, what is wrong, and for an unknown key the nearest valid name."""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from hub.config.base import is_secret

Loc = tuple[int | str, ...]
_REWORDS = (
    ("Input should be", "must be"),
    ("Decimal input should", "must"),
    ("Value should", "must"),
    ("List should", "must"),
    ("Tuple should", "must"),
    ("Dictionary should", "must"),
    ("String should", "must"),
    ("Field required", "is required"),
)


def dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe(
    error: ValidationError, *, root: type[BaseModel], prefix: Loc = (), source: str = ""
) -> list[str]:
    lead = f"{source}: " if source else ""
    errors = error.errors()
    locs = [tuple(e["loc"]) for e in errors]
    # A failed item also fails its list's length check; the item's own error says it all.
    return [
        lead + _sentence(e, root=root, prefix=prefix)
        for e in errors
        if not any(len(o) > len(e["loc"]) and o[: len(e["loc"])] == tuple(e["loc"]) for o in locs)
    ]


def _sentence(error: Any, *, root: type[BaseModel], prefix: Loc) -> str:
    loc: Loc = tuple(error["loc"])
    path = dotted(prefix + loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        return unknown_key(path, str(loc[-1]), field_names(root, loc[:-1]))
    message = str(error["msg"])
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
        return f"{path}: {message}" if path else message
    for old, new in _REWORDS:
        if message.startswith(old):
            message = new + message[len(old) :]
            break
    field = field_at(root, loc)
    shown = (
        ""
        if kind == "missing" or (field and is_secret(field.json_schema_extra))
        else (_got(error.get("input")))
    )
    return f"{path} {message}{shown}" if path else f"{message}{shown}"


def unknown_key(path: str, key: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"{path} is not a setting; did you mean `{close[0]}`?"
    listed = ", ".join(known) if known else "none"
    return f"{path} is not a setting (settings here: {listed})"


def _got(value: Any) -> str:
    if isinstance(value, dict | list | tuple) or value is None:
        return ""
    text = repr(value)
    return f" (got {text})" if len(text) <= 60 else ""


def field_names(root: type[BaseModel], loc: Loc) -> list[str]:
    model = _model_at(root, loc)
    if model is None:
        return []
    return [
        name
        for name, info in model.model_fields.items()
        if not (
            isinstance(info.json_schema_extra, dict) and "from_table_name" in info.json_schema_extra
        )
    ]


def field_at(root: type[BaseModel], loc: Loc) -> FieldInfo | None:
    if not loc or not isinstance(loc[-1], str):
        return None
    model = _model_at(root, loc[:-1])
    return model.model_fields.get(loc[-1]) if model is not None else None


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    current: Any = root
    for part in loc:
        current = _step(current, part)
        if current is None:
            return None
    for candidate in _members(current):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _step(annotation: Any, part: int | str) -> Any:
    for candidate in _members(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            if isinstance(part, str) and part in candidate.model_fields:
                return candidate.model_fields[part].annotation
            continue
        origin, args = get_origin(candidate), get_args(candidate)
        if origin in (dict,) and isinstance(part, str) and len(args) == 2:
            return args[1]
        if origin in (tuple, list) and isinstance(part, int) and args:
            return args[0]
    return None


def _members(annotation: Any) -> Iterator[Any]:
    """The types an annotation may be: unwraps Annotated, Optional and unions."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _members(get_args(annotation)[0])
    elif origin is Union or isinstance(annotation, types.UnionType):
        for arg in get_args(annotation):
            yield from _members(arg)
    else:
        yield annotation
