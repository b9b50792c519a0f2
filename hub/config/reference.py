"""docs/configuration.md, generated from the settings models (`make docs`; a test keeps the
checked-in file current), so the reference cannot drift from what the loader accepts."""

from __future__ import annotations

import types
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from hub.config.base import is_secret
from hub.config.connectors import ConnectorSection, section_models
from hub.config.settings import Settings

INTRO = """# Configuration reference

Generated from the settings models in `hub/config/` and each connector's `config.py` by
`make docs`; do not edit by hand. `config/hub.example.toml` shows every section with comments,
and `hub config check` validates a file against exactly these tables.

- Unknown keys are refused, with the nearest valid name.
- String values may reference the environment: `"${VAR}"` (an error when VAR is unset) or
  `"${VAR:-default}"` (the default when VAR is unset or empty); `$${` is a literal `${`. Values
  are typed after substitution, so `"${FLAG:-false}"` is the boolean false.
- `DATABASE_URL`, `REDIS_URL` and `HUB_SECRET_KEY` override `[database] url`, `[redis] url` and
  `[security] secret_key`; `HUB_CONFIG` names the file (default `config/hub.toml`).
- Relative paths (the SQLite file, `secret_key_file`) start from the folder holding the file.
- Secrets are never printed: `hub config show` masks them.
"""


def render(connectors: dict[str, type[ConnectorSection] | None] | None = None) -> str:
    parts = [INTRO]
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if "connectors" in extra or "environment" in extra:
            continue
        model = _model_of(info.annotation)
        if model is None:
            continue
        if get_origin(info.annotation) is dict:
            key = "alias" if name == "models" else "name"
            parts.append(_table(f"[{name}.<{key}>]", model, info.description))
            for sub_name, sub in model.model_fields.items():
                inner = _model_of(sub.annotation)
                if inner is not None:
                    parts.append(_table(f"[[{name}.<{key}>.{sub_name}]]", inner, None))
        elif get_origin(info.annotation) is tuple:
            parts.append(_table(f"[[{name}]]", model, info.description))
        else:
            parts.append(_table(f"[{name}]", model, None))
    found = section_models() if connectors is None else connectors
    for name, section in sorted(found.items()):
        if section is not None:
            parts.append(_table(f"[connectors.{name}]", section, None))
            for sub_name, sub in section.model_fields.items():  # its own tables, if any
                inner = _model_of(sub.annotation)
                if inner is not None:
                    parts.append(_table(f"[connectors.{name}.{sub_name}]", inner, None))
    return "\n".join(parts)


def _table(heading: str, model: type[BaseModel], note: str | None) -> str:
    lines = [f"## `{heading}`", ""]
    doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    if note or (doc and not doc.startswith(("Base of", "One table"))):
        lines += [note or doc, ""]
    lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if "from_table_name" in extra:
            continue
        lines.append(f"| `{name}` | {_type(info)} | {_default(info)} | {info.description or ''} |")
    return "\n".join(lines) + "\n"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for candidate in _members(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        for arg in get_args(candidate):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
    return None


def _members(annotation: Any) -> Iterator[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _members(get_args(annotation)[0])
    elif origin is Union or isinstance(annotation, types.UnionType):
        for arg in get_args(annotation):
            yield from _members(arg)
    else:
        yield annotation


def _type(info: FieldInfo) -> str:
    words = [_word(m) for m in _members(info.annotation) if m is not type(None)]
    text = " or ".join(dict.fromkeys(words))
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    shown_as = extra.get("shown_as")
    if isinstance(shown_as, str):
        text = "string" if shown_as == "text" else shown_as
    if is_secret(info.json_schema_extra):
        text = "secret " + text
    bounds = [_bound(m) for m in _constraints(info)]
    return text + (f" ({', '.join(b for b in bounds if b)})" if any(bounds) else "")


def _word(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(f"`{v}`" for v in get_args(annotation))
    if get_origin(annotation) in (tuple, list):
        inner = [_word(m) for m in _members(get_args(annotation)[0])]
        return f"list of {inner[0]}s"
    if get_origin(annotation) is dict:
        return "table"
    names = {bool: "boolean", int: "integer", float: "number", str: "string", Path: "path"}
    if annotation is Decimal:
        return "decimal number"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "inline table"
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _constraints(info: FieldInfo) -> list[Any]:
    found = list(info.metadata)
    for member in _annotated(info.annotation):
        for meta in get_args(member)[1:]:
            found += getattr(meta, "metadata", [])
    return found


def _annotated(annotation: Any) -> Iterator[Any]:
    if get_origin(annotation) is Annotated:
        yield annotation
    elif get_origin(annotation) is Union or isinstance(annotation, types.UnionType):
        for arg in get_args(annotation):
            yield from _annotated(arg)


def _bound(meta: Any) -> str:
    for kind, attribute, sign in (
        (annotated_types.Ge, "ge", "≥"),
        (annotated_types.Gt, "gt", ">"),
        (annotated_types.Le, "le", "≤"),
        (annotated_types.Lt, "lt", "<"),
    ):
        if isinstance(meta, kind):
            value = getattr(meta, attribute)
            return f"{sign} {value}"
    if isinstance(meta, annotated_types.MinLen) and meta.min_length:
        return f"at least {meta.min_length}"
    return ""


def _default(info: FieldInfo) -> str:
    if info.default is PydanticUndefined and info.default_factory is None:
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple | list):
        return "`[]`" if not value else f"`{list(value)}`"
    if isinstance(value, dict):
        return "none" if not value else f"`{value}`"
    if isinstance(value, BaseModel):
        return "(table)"
    return f"`{value}`"


if __name__ == "__main__":
    print(render(), end="")
