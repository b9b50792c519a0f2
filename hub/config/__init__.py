"""Settings: read once at start-up from TOML plus the environment, then passed explicitly.

Nothing else in the hub reads the environment. The models live one section per module here;
`load_settings` (hub/config/load.py) reads a file into them.
"""

from hub.config.base import ConfigPath, Secret, Section
from hub.config.billing import BillingSettings, StripeSettings
from hub.config.cache import CacheSettings
from hub.config.connectors import ConnectorSection, section_enabled
from hub.config.database import DatabaseSettings, RedisSettings, async_database_url
from hub.config.errors import ConfigError
from hub.config.ledger import LedgerSettings
from hub.config.limits import MIB, RateLimitDefaults, WebhookSettings, body_limit
from hub.config.load import load_settings, parse_settings
from hub.config.logs import LoggingSettings
from hub.config.models import DeploymentSettings, ModelSettings
from hub.config.prices import NO_CATALOG, PriceCatalog, Prices
from hub.config.providers import ProviderSettings, ProviderType
from hub.config.router import RouterSettings
from hub.config.security import SecuritySettings
from hub.config.server import ServerSettings
from hub.config.settings import Settings

__all__ = [
    "MIB",
    "NO_CATALOG",
    "BillingSettings",
    "StripeSettings",
    "CacheSettings",
    "ConfigError",
    "ConfigPath",
    "ConnectorSection",
    "DatabaseSettings",
    "DeploymentSettings",
    "LedgerSettings",
    "LoggingSettings",
    "ModelSettings",
    "PriceCatalog",
    "Prices",
    "ProviderSettings",
    "ProviderType",
    "RateLimitDefaults",
    "RedisSettings",
    "RouterSettings",
    "Secret",
    "Section",
    "SecuritySettings",
    "ServerSettings",
    "Settings",
    "WebhookSettings",
    "async_database_url",
    "body_limit",
    "load_settings",
    "parse_settings",
    "section_enabled",
]
