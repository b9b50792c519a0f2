"""The whole configuration: one frozen model whose sections mirror the TOML file's tables.

To add a setting: add a field (with a default, its range and a `description`) to the section's
model in `hub/config/<section>.py`, document it in `config/hub.example.toml`, and regenerate
docs/configuration.md (`make docs`). A new section is a new `Section` subclass and one field
here. Connectors bring their own sections (hub/config/connectors.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from hub.config.alerts import AlertRule, check_unique
from hub.config.base import Section
from hub.config.billing import BillingSettings
from hub.config.cache import CacheSettings
from hub.config.connectors import ConnectorSection
from hub.config.database import DatabaseSettings, RedisSettings, async_database_url
from hub.config.ledger import LedgerSettings
from hub.config.limits import RateLimitDefaults, WebhookSettings
from hub.config.logs import LoggingSettings
from hub.config.models import ModelSettings
from hub.config.observability import ErrorSettings, MetricsSettings, OtelSettings
from hub.config.providers import DEFAULT_MAX_OUTPUT_TOKENS, ProviderSettings
from hub.config.reports import ReportSettings
from hub.config.router import RouterSettings
from hub.config.security import SecuritySettings
from hub.config.server import ServerSettings
from hub.routing.settings import check_references


class Settings(Section):
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    providers: dict[str, ProviderSettings] = Field(
        default_factory=dict,
        description="One upstream per table, named by the deployments that use it.",
    )
    models: dict[str, ModelSettings] = Field(
        min_length=1,
        description="An alias clients ask for, and the deployments it falls back through. "
        "At least one; a request naming no model uses `default`, else the first.",
    )
    ledger: LedgerSettings = LedgerSettings()
    router: RouterSettings = RouterSettings()
    logging: LoggingSettings = LoggingSettings()
    security: SecuritySettings = SecuritySettings()
    webhooks: WebhookSettings = WebhookSettings()
    rate_limits: RateLimitDefaults = RateLimitDefaults()
    cache: CacheSettings = CacheSettings()
    billing: BillingSettings = BillingSettings()
    metrics: MetricsSettings = MetricsSettings()
    errors: ErrorSettings = ErrorSettings()
    reports: ReportSettings = ReportSettings()
    alerts: tuple[AlertRule, ...] = Field(
        default=(), description="`[[alerts]]` rules (README: Alerts)."
    )
    # From the standard OTEL_* variables, never the file (filled in by the loader).
    otel: OtelSettings = Field(
        default_factory=OtelSettings, json_schema_extra={"environment": True}
    )
    # `[connectors.<name>]`: typed by each connector's own model (filled in by the loader).
    connectors: dict[str, ConnectorSection | dict[str, Any]] = Field(
        default_factory=dict, json_schema_extra={"connectors": True}
    )

    @model_validator(mode="after")
    def _alert_names_unique(self) -> Settings:
        check_unique(self.alerts)
        return self

    @model_validator(mode="before")
    @classmethod
    def _names_from_tables(cls, data: Any) -> Any:
        """A provider's name and a model's alias are their table's name."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for table, key in (("providers", "name"), ("models", "alias")):
            entries = data.get(table)
            if isinstance(entries, dict):
                data[table] = {n: _named(table, n, v, key) for n, v in entries.items()}
        return data

    @model_validator(mode="after")
    def _deployments_name_providers(self) -> Settings:
        for alias, model in self.models.items():
            for i, deployment in enumerate(model.deployments):
                if deployment.provider not in self.providers:
                    known = ", ".join(sorted(self.providers)) or "none"
                    raise ValueError(
                        f"models.{alias}.deployments[{i}].provider '{deployment.provider}' "
                        f"names no [providers.*] table (configured: {known})"
                    )
        check_references(self.models)
        if self.cache.backend == "redis" and not self.redis.url:
            raise ValueError('cache.backend = "redis" needs [redis] url (or REDIS_URL)')
        return self._with_output_bounds()

    def _with_output_bounds(self) -> Settings:
        """Every deployment states its `max_output_tokens`: its own, else the deprecated
        `[ledger] default_max_tokens`, else its provider kind's default."""
        fallback = self.ledger.default_max_tokens
        models = {}
        for alias, model in self.models.items():
            deployments = tuple(
                d
                if d.max_output_tokens is not None
                else d.model_copy(
                    update={
                        "max_output_tokens": fallback
                        or DEFAULT_MAX_OUTPUT_TOKENS[self.providers[d.provider].type]
                    }
                )
                for d in model.deployments
            )
            models[alias] = (
                model
                if deployments == model.deployments
                else model.model_copy(update={"deployments": deployments})
            )
        return self.model_copy(update={"models": models})

    # Short names the rest of the hub has always used.
    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL with its async driver (aiosqlite, asyncpg)."""
        return async_database_url(self.database.url)

    @property
    def redis_url(self) -> str:
        return self.redis.url

    @property
    def redis_key_prefix(self) -> str:
        return self.redis.key_prefix

    @property
    def default_alias(self) -> str | None:
        if "default" in self.models:
            return "default"
        return next(iter(self.models), None)

    def connector(self, name: str) -> ConnectorSection | Mapping[str, Any]:
        return self.connectors.get(name, {})


def _named(table: str, name: str, value: Any, key: str) -> Any:
    if not isinstance(value, dict):
        return value
    if key in value:
        raise ValueError(
            f"{table}.{name}.{key} is not a setting: the table's name, '{name}', is the {key}"
        )
    return {**value, key: name}
