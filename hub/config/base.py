"""What every settings section shares: frozen, unknown keys refused, and the few value types
that need the config file's folder or must never be printed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

# Keys of `model_validate(..., context=...)` while loading a file.
BASE_DIR = "base_dir"  # the config file's folder: relative paths resolve against it
PRICE_CATALOG = "price_catalog"  # hub.config.prices.PriceCatalog, for deployments without prices


class Section(BaseModel):
    """One table of the TOML file. Frozen; an unknown key is an error, never ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def base_dir(info: ValidationInfo) -> Path:
    context = info.context if isinstance(info.context, dict) else {}
    found = context.get(BASE_DIR)
    return Path(found) if found is not None else Path.cwd()


def _resolve(value: Path, info: ValidationInfo) -> Path:
    expanded = value.expanduser()
    return expanded if expanded.is_absolute() else (base_dir(info) / expanded).resolve()


# A secret: masked by `hub config show`, left out of reprs. Code reads it as a plain str.
SECRET: dict[str, Any] = {"secret": True}
Secret = Annotated[str, Field(repr=False, json_schema_extra=SECRET)]
# A file or folder; relative ones resolve against the folder holding the config file.
ConfigPath = Annotated[Path, AfterValidator(_resolve)]
# USD per million tokens, exact to the micro-dollar: money never goes through a float.
UsdPerMtok = Annotated[Decimal, Field(ge=0, le=1_000_000, decimal_places=6, allow_inf_nan=False)]


def is_secret(extra: Any) -> bool:
    return isinstance(extra, dict) and bool(extra.get("secret"))
