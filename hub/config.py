"""Settings: read once at start-up from TOML plus the environment, then passed explicitly.

Nothing else in the hub reads `os.environ`. String values may reference the environment as
`${VAR}` or `${VAR:-default}`, which is how secrets get in without being written to the file.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from hub.model import Usage
from hub.routing import settings as routing
from hub.routing.settings import CacheScope, CacheSettings, Sticky, Strategy

ProviderType = Literal["openai", "anthropic", "demo"]
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    # Client addresses are taken from X-Forwarded-For only when the socket peer is one of these.
    trusted_proxies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    name: str
    type: ProviderType
    base_url: str = ""
    api_key: str = field(default="", repr=False)
    timeout_s: float = 60.0
    anthropic_version: str = "2023-06-01"


@dataclass(frozen=True, slots=True)
class DeploymentSettings:
    provider: str
    model: str
    # Prices are kept as integer micro-USD per million tokens: integer money everywhere.
    input_micros_per_mtok: int
    output_micros_per_mtok: int
    # Cache reads and writes default to the input price when a deployment names none.
    cached_input_micros_per_mtok: int | None = None
    cache_write_micros_per_mtok: int | None = None
    # Routing (hub/routing): share of weighted traffic, and what the deployment can take.
    weight: float = 1.0
    vision: bool | None = None  # None: the alias's `vision`
    tools: bool = True
    json_schema: bool = True
    max_input_tokens: int | None = None  # None: the alias's `context_tokens`

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.model}"

    def cost_micros(self, prompt_tokens: int, completion_tokens: int) -> int:
        """Cost in micro-USD of uncached tokens, rounded up to the next whole micro-dollar."""
        return self.cost_of(Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens))

    def cost_of(self, usage: Usage) -> int:
        """Cost in micro-USD of a usage, each token type at its price, rounded up once."""
        cached_price = self.cached_input_micros_per_mtok
        write_price = self.cache_write_micros_per_mtok
        plain_input = max(0, usage.prompt_tokens - usage.cached_tokens - usage.cache_write_tokens)
        numerator = (
            plain_input * self.input_micros_per_mtok
            + usage.cached_tokens
            * (self.input_micros_per_mtok if cached_price is None else cached_price)
            + usage.cache_write_tokens
            * (self.input_micros_per_mtok if write_price is None else write_price)
            + usage.completion_tokens * self.output_micros_per_mtok
        )
        return -(-numerator // 1_000_000)


@dataclass(frozen=True, slots=True)
class ModelSettings:
    alias: str
    deployments: tuple[DeploymentSettings, ...]
    context_tokens: int = 8192
    vision: bool = False
    # Routing and caching (hub/routing, hub/cache); hub/routing/settings.py checks the keys.
    strategy: Strategy = "priority"
    sticky: Sticky = "none"
    tiers: tuple[tuple[str, str], ...] = ()  # (tier, alias), weakest tier first
    classifier: str | None = None
    downgrade_at_percent: float | None = None
    downgrade_to: str | None = None
    cache_ttl_s: int = 0
    cache_scope: CacheScope = "team"
    cache_sampled: bool = False
    show_model: bool = False


@dataclass(frozen=True, slots=True)
class LedgerSettings:
    default_max_tokens: int = 1024


@dataclass(frozen=True, slots=True)
class RouterSettings:
    max_retries: int = 2
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    retry_after_max_s: float = 30.0
    # Circuit breakers and latency estimates (hub/routing/circuits.py, hub/routing/health.py).
    circuit_failures: int = 5
    circuit_cooldown_s: float = 30.0
    circuit_cooldown_max_s: float = 600.0
    circuit_error_rate: float = 0.5
    circuit_window_s: float = 60.0
    circuit_min_requests: int = 20
    latency_decay_s: float = 10.0


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    level: str = "INFO"
    log_content: bool = False


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    # Fernet keys, newest first: the first encrypts, all decrypt (key rotation).
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    operator_key: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    allow_private_targets: bool = False


@dataclass(frozen=True, slots=True)
class RateLimitDefaults:
    """Per-minute limits for scopes that have none of their own (0: unlimited)."""

    key_rpm: int = 0
    key_tpm: int = 0
    member_rpm: int = 0
    member_tpm: int = 0
    team_rpm: int = 0
    team_tpm: int = 0


@dataclass(frozen=True, slots=True)
class Settings:
    server: ServerSettings
    database_url: str
    providers: Mapping[str, ProviderSettings]
    models: Mapping[str, ModelSettings]
    ledger: LedgerSettings = LedgerSettings()
    router: RouterSettings = RouterSettings()
    logging: LoggingSettings = LoggingSettings()
    security: SecuritySettings = SecuritySettings()
    webhooks: WebhookSettings = WebhookSettings()
    redis_url: str = ""
    redis_key_prefix: str = "unillm"
    rate_limits: RateLimitDefaults = RateLimitDefaults()
    cache: CacheSettings = CacheSettings()
    # Each connector parses its own section (connectors/<name>/config.py).
    connectors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def default_alias(self) -> str | None:
        if "default" in self.models:
            return "default"
        return next(iter(self.models), None)


def expand_env(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: env.get(m.group(1), m.group(2) or ""), value)
    if isinstance(value, list):
        return [expand_env(v, env) for v in value]
    if isinstance(value, dict):
        return {k: expand_env(v, env) for k, v in value.items()}
    return value


def async_database_url(url: str) -> str:
    """Accept the usual URL spellings and pick the async driver for each."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def _micros_per_mtok(value: Any, where: str) -> int:
    try:
        return int(Decimal(str(value)) * 1_000_000)
    except Exception as exc:  # noqa: BLE001 - any bad literal is the same config mistake
        raise ConfigError(f"{where} must be a number") from exc


def _optional_micros(value: Any, where: str) -> int | None:
    return None if value is None else _micros_per_mtok(value, where)


def _provider(name: str, raw: Mapping[str, Any]) -> ProviderSettings:
    kind = raw.get("type")
    if kind not in ("openai", "anthropic", "demo"):
        raise ConfigError(f"providers.{name}.type must be openai, anthropic or demo")
    default_url = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com"}
    return ProviderSettings(
        name=name,
        type=kind,
        base_url=str(raw.get("base_url") or default_url.get(kind, "")).rstrip("/"),
        api_key=str(raw.get("api_key", "")),
        timeout_s=float(raw.get("timeout_s", 60.0)),
        anthropic_version=str(raw.get("anthropic_version", "2023-06-01")),
    )


def _model(alias: str, raw: Mapping[str, Any], providers: Mapping[str, Any]) -> ModelSettings:
    deployments = []
    for i, dep in enumerate(raw.get("deployments", [])):
        where = f"models.{alias}.deployments[{i}]"
        if dep.get("provider") not in providers:
            raise ConfigError(f"{where}.provider names no configured provider")
        if not dep.get("model"):
            raise ConfigError(f"{where}.model is required")
        deployments.append(
            DeploymentSettings(
                provider=dep["provider"],
                model=str(dep["model"]),
                input_micros_per_mtok=_micros_per_mtok(
                    dep.get("input_usd_per_mtok", 0), f"{where}.input_usd_per_mtok"
                ),
                output_micros_per_mtok=_micros_per_mtok(
                    dep.get("output_usd_per_mtok", 0), f"{where}.output_usd_per_mtok"
                ),
                cached_input_micros_per_mtok=_optional_micros(
                    dep.get("cached_input_usd_per_mtok"), f"{where}.cached_input_usd_per_mtok"
                ),
                cache_write_micros_per_mtok=_optional_micros(
                    dep.get("cache_write_usd_per_mtok"), f"{where}.cache_write_usd_per_mtok"
                ),
                **_routing(routing.deployment_fields, dep, where),
            )
        )
    if not deployments and raw.get("strategy") != "auto":
        raise ConfigError(f"models.{alias}.deployments needs at least one deployment")
    return ModelSettings(
        alias=alias,
        deployments=tuple(deployments),
        context_tokens=int(raw.get("context_tokens", 8192)),
        vision=bool(raw.get("vision", False)),
        **_routing(routing.model_fields, raw, f"models.{alias}"),
    )


def _routing(parse: Any, raw: Any, where: str) -> Any:
    try:
        return parse(raw, where)
    except routing.RoutingConfigError as exc:
        raise ConfigError(str(exc)) from exc


def _secret_keys(raw: Mapping[str, Any], env: Mapping[str, str], base: Path) -> tuple[str, ...]:
    value = env.get("HUB_SECRET_KEY") or str(raw.get("secret_key", ""))
    if not value and raw.get("secret_key_file"):
        path = Path(str(raw["secret_key_file"]))
        path = path if path.is_absolute() else base / path
        if path.exists():
            value = path.read_text().strip()
    return tuple(k.strip() for k in value.split(",") if k.strip())


def _rate_limits(raw: Mapping[str, Any]) -> RateLimitDefaults:
    known = set(RateLimitDefaults.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"rate_limits: unknown option(s) {', '.join(sorted(unknown))}")
    try:
        return RateLimitDefaults(**{k: int(v) for k, v in raw.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError("rate_limits values must be whole numbers per minute") from exc


def parse_settings(
    data: Mapping[str, Any], env: Mapping[str, str], base: Path = Path(".")
) -> Settings:
    data = expand_env(dict(data), env)
    server = data.get("server", {})
    providers = {n: _provider(n, p) for n, p in data.get("providers", {}).items()}
    models = {a: _model(a, m, providers) for a, m in data.get("models", {}).items()}
    _routing(lambda raw, _: routing.check_references(raw), models, "models")
    database_url = env.get("DATABASE_URL") or data.get("database", {}).get(
        "url", "sqlite:///var/hub.db"
    )
    ledger = data.get("ledger", {})
    router = data.get("router", {})
    logging_ = data.get("logging", {})
    security = data.get("security", {})
    redis_url = env.get("REDIS_URL") or str(data.get("redis", {}).get("url", ""))
    if data.get("cache", {}).get("backend") == "redis" and not redis_url:
        raise ConfigError('cache.backend = "redis" needs [redis] url (or REDIS_URL)')
    return Settings(
        server=ServerSettings(
            host=str(server.get("host", "127.0.0.1")),
            port=int(server.get("port", 8080)),
            trusted_proxies=tuple(server.get("trusted_proxies", ())),
        ),
        database_url=async_database_url(str(database_url)),
        providers=providers,
        models=models,
        ledger=LedgerSettings(default_max_tokens=int(ledger.get("default_max_tokens", 1024))),
        router=RouterSettings(
            max_retries=int(router.get("max_retries", 2)),
            backoff_base_s=float(router.get("backoff_base_s", 0.5)),
            backoff_max_s=float(router.get("backoff_max_s", 8.0)),
            retry_after_max_s=float(router.get("retry_after_max_s", 30.0)),
            **_routing(lambda raw, _: routing.router_fields(raw), router, "router"),
        ),
        logging=LoggingSettings(
            level=str(logging_.get("level", "INFO")).upper(),
            log_content=bool(logging_.get("log_content", False)),
        ),
        security=SecuritySettings(
            secret_keys=_secret_keys(security, env, base),
            operator_key=str(security.get("operator_key", "")),
        ),
        webhooks=WebhookSettings(
            allow_private_targets=bool(data.get("webhooks", {}).get("allow_private_targets", False))
        ),
        redis_url=redis_url,
        redis_key_prefix=str(data.get("redis", {}).get("key_prefix", "unillm")),
        rate_limits=_rate_limits(data.get("rate_limits", {})),
        cache=_routing(lambda raw, _: routing.cache_settings(raw), data.get("cache", {}), "cache"),
        connectors={k: dict(v) for k, v in data.get("connectors", {}).items()},
    )


def load_settings(path: str | Path, env: Mapping[str, str] | None = None) -> Settings:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return parse_settings(data, os.environ if env is None else env, Path.cwd())
