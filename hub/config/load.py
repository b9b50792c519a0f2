"""Reading the configuration: TOML, then `${VAR}` substitution, then the environment's
overrides, then typing by the models, then prices. Every mistake found is reported at once,
each as one sentence naming the file and the key."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hub.config.base import BASE_DIR
from hub.config.connectors import ConnectorSection, section_models
from hub.config.database import absolute_sqlite_url
from hub.config.environment import substitute
from hub.config.errors import ConfigError
from hub.config.models import DeploymentSettings, ModelSettings
from hub.config.observability import OtelConfigError, OtelSettings, otel_from_env
from hub.config.prices import NO_CATALOG, PriceCatalog
from hub.config.problems import describe, unknown_key
from hub.config.settings import Settings

# Variables that win over the file (twelve-factor deployments set only these).
ENV_OVERRIDES = {
    "DATABASE_URL": ("database", "url"),
    "REDIS_URL": ("redis", "url"),
    "HUB_SECRET_KEY": ("security", "secret_key"),
}
ConnectorModels = Mapping[str, type[ConnectorSection] | None]


def load_settings(
    path: str | Path, env: Mapping[str, str] | None = None, *, catalog: PriceCatalog | None = None
) -> Settings:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"config file not found: {path} (copy config/hub.example.toml there, "
            "or pass --config PATH)"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder, not a TOML config file") from None
    except PermissionError:
        raise ConfigError(f"{path} cannot be read: permission denied") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse_settings(
        data,
        os.environ if env is None else env,
        path.absolute().parent,
        source=str(path),
        catalog=catalog,
    )


def parse_settings(
    data: Mapping[str, Any],
    env: Mapping[str, str],
    base: Path = Path("."),
    *,
    source: str = "config",
    connector_models: ConnectorModels | None = None,
    catalog: PriceCatalog | None = None,
) -> Settings:
    raw = substitute(dict(data), env, source=source)
    _apply_overrides(raw, env)
    raw_connectors = raw.pop("connectors", {})
    context = {BASE_DIR: base.absolute()}
    problems: list[str] = []
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(raw, context=context)
    except ValidationError as exc:
        problems += describe(exc, root=Settings, source=source)
    models = section_models() if connector_models is None else connector_models
    connectors, found = _connectors(raw_connectors, models, context=context, source=source)
    problems += found
    if settings is not None:
        settings, unpriced = _priced(settings, catalog or _file_catalog(settings), source=source)
        problems += unpriced
    otel = OtelSettings()
    try:
        otel = otel_from_env(env)
    except OtelConfigError as exc:
        problems.append(f"environment: {exc}")
    if isinstance(raw.get("otel"), dict):
        problems.append(f"{source}: otel is not a table: set the OTEL_* environment variables")
    if problems or settings is None:
        raise ConfigError.of(problems)
    return settings.model_copy(update={"connectors": connectors, "otel": otel})


def _apply_overrides(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for variable, (table, key) in ENV_OVERRIDES.items():
        value = env.get(variable)
        if not value:
            continue
        if variable == "DATABASE_URL":  # a relative path in the environment is the shell's
            value = absolute_sqlite_url(value, Path.cwd())
        section = raw.get(table)
        raw[table] = {**(section if isinstance(section, dict) else {}), key: value}


def _connectors(
    raw: Any, models: ConnectorModels, *, context: dict[str, Any], source: str
) -> tuple[dict[str, ConnectorSection | dict[str, Any]], list[str]]:
    if not isinstance(raw, dict):
        return {}, [f"{source}: connectors must be a table of [connectors.<name>] sections"]
    sections: dict[str, ConnectorSection | dict[str, Any]] = {}
    problems = []
    for name in raw:
        if name not in models:
            problems.append(
                f"{source}: "
                + unknown_key(f"connectors.{name}", name, sorted(models)).replace(
                    "is not a setting", "names no installed connector"
                )
            )
    for name, model in models.items():
        section = raw.get(name, {})
        if not isinstance(section, dict):
            problems.append(f"{source}: connectors.{name} must be a table ([connectors.{name}])")
        elif model is None:
            sections[name] = section
        else:
            try:
                sections[name] = model.model_validate(section, context=context)
            except ValidationError as exc:
                problems += describe(exc, root=model, prefix=("connectors", name), source=source)
    return sections, problems


def _priced(
    settings: Settings, catalog: PriceCatalog, *, source: str
) -> tuple[Settings, list[str]]:
    """Deployments without prices take them from the catalog, or are refused: a model without
    prices would be free, so no budget would ever stop it."""
    problems = []
    models: dict[str, ModelSettings] = {}
    for alias, model in settings.models.items():
        deployments: list[DeploymentSettings] = []
        for i, deployment in enumerate(model.deployments):
            if not deployment.priced:
                provider = settings.providers[deployment.provider]
                found = catalog.prices(provider_type=provider.type, model=deployment.model)
                if found is None:
                    problems.append(
                        _unpriced(source, f"models.{alias}.deployments[{i}]", deployment)
                    )
                else:
                    deployment = deployment.model_copy(update=_filled(deployment, found))
                    deployment._catalog_priced = True
            deployments.append(deployment)
        models[alias] = model.model_copy(update={"deployments": tuple(deployments)})
    return settings.model_copy(update={"models": models}), problems


def _file_catalog(settings: Settings) -> PriceCatalog:
    """The price list of `[billing] price_catalog` (default: the shipped snapshot)."""
    from hub.billing.snapshot_catalog import FileCatalog, snapshot_path  # billing imports config

    path = snapshot_path(settings.billing.price_catalog)
    return FileCatalog(path) if path.is_file() else NO_CATALOG


def _filled(deployment: DeploymentSettings, prices: Any) -> dict[str, Any]:
    names = (
        "input_usd_per_mtok",
        "output_usd_per_mtok",
        "cached_input_usd_per_mtok",
        "cache_write_usd_per_mtok",
    )
    return {n: getattr(prices, n) for n in names if getattr(deployment, n) is None}


def _unpriced(source: str, path: str, deployment: DeploymentSettings) -> str:
    missing = [
        name
        for name in ("input_usd_per_mtok", "output_usd_per_mtok")
        if getattr(deployment, name) is None
    ]
    return (
        f"{source}: {path} ({deployment.label}) has no {' or '.join(missing)}: give its "
        "prices in USD per million tokens, or the model would be free and no budget would "
        "stop it"
    )
