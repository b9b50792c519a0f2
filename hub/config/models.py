"""`[models.<alias>]`: an alias and the deployments it falls back through, with their prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from hub.config.base import Section, UsdPerMtok
from hub.config.providers import DEFAULT_MAX_OUTPUT_TOKENS
from hub.model import Usage
from hub.routing.settings import TIERS, CacheScope, Sticky, Strategy

_MICROS = Decimal(1_000_000)
_PRICES = ("input", "output", "cached_input", "cache_write")


class DeploymentSettings(Section):
    provider: str = Field(min_length=1, description="A `[providers.<name>]` table's name.")
    model: str = Field(min_length=1, description="The model's name at that provider.")
    # Prices: USD per million tokens. A deployment needs input and output prices, from here
    # or from a price catalog (hub.config.prices); cache prices default to the input price.
    input_usd_per_mtok: UsdPerMtok | None = Field(
        None, description="USD per million input tokens (required unless a catalog has it)."
    )
    output_usd_per_mtok: UsdPerMtok | None = Field(
        None, description="USD per million output tokens (required unless a catalog has it)."
    )
    cached_input_usd_per_mtok: UsdPerMtok | None = Field(
        None, description="USD per million cached input tokens; default: the input price."
    )
    cache_write_usd_per_mtok: UsdPerMtok | None = Field(
        None, description="USD per million cache-write tokens; default: the input price."
    )

    # Routing (hub/routing): share of weighted traffic, and what the deployment can take.
    weight: float = Field(
        1.0, ge=0, le=1_000_000, description="Share of traffic under the weighted strategy."
    )
    vision: bool | None = Field(None, description="Accepts images; unset: the alias's `vision`.")
    tools: bool = Field(True, description="Accepts tools and tool calls.")
    json_schema: bool = Field(True, description="Accepts response_format json_schema.")
    max_input_tokens: int | None = Field(
        None, ge=1, le=1_000_000_000, description="Longest prompt it takes; unset: no limit."
    )
    max_output_tokens: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        description="Longest answer it gives (the model's documented output limit): reserved "
        "when a request names no max_tokens; unset: the provider kind's default (openai "
        "32768, anthropic 8192, demo 1024).",
    )
    # Set by the loader when the prices came from the price catalog, not the file: billing's
    # price book then charges the catalog version in force at each moment (hub/billing).
    _catalog_priced: bool = PrivateAttr(False)

    @property
    def catalog_priced(self) -> bool:
        return self._catalog_priced

    @model_validator(mode="before")
    @classmethod
    def _accept_micros(cls, data: Any, info: ValidationInfo) -> Any:
        """Code (not a config file) may give prices as integer micro-USD per million tokens,
        `input_micros_per_mtok=150_000`; a file always says USD."""
        if info.context is not None or not isinstance(data, dict):
            return data
        data = dict(data)
        for price in _PRICES:
            micros = data.pop(f"{price}_micros_per_mtok", None)
            if micros is not None:
                data[f"{price}_usd_per_mtok"] = Decimal(int(micros)) / _MICROS
        return data

    def output_limit(self, provider_type: str) -> int:
        """The longest answer: `max_output_tokens` (the settings loader fills it in), else
        the provider kind's default."""
        if self.max_output_tokens is not None:
            return self.max_output_tokens
        return DEFAULT_MAX_OUTPUT_TOKENS.get(provider_type, DEFAULT_MAX_OUTPUT_TOKENS["openai"])

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def priced(self) -> bool:
        return self.input_usd_per_mtok is not None and self.output_usd_per_mtok is not None

    # Integer micro-USD per million tokens: integer money everywhere past the config file.
    @property
    def input_micros_per_mtok(self) -> int:
        return _micros(self.input_usd_per_mtok, self.label)

    @property
    def output_micros_per_mtok(self) -> int:
        return _micros(self.output_usd_per_mtok, self.label)

    @property
    def cached_input_micros_per_mtok(self) -> int | None:
        price = self.cached_input_usd_per_mtok
        return None if price is None else _micros(price, self.label)

    @property
    def cache_write_micros_per_mtok(self) -> int | None:
        price = self.cache_write_usd_per_mtok
        return None if price is None else _micros(price, self.label)

    def cost_micros(self, prompt_tokens: int, completion_tokens: int) -> int:
        """Cost in micro-USD of uncached tokens, rounded up to the next whole micro-dollar."""
        return self.cost_of(Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens))

    def cost_of(self, usage: Usage) -> int:
        """Cost in micro-USD of a usage, each token type at its price, rounded up once."""
        input_price = self.input_micros_per_mtok
        cached_price = self.cached_input_micros_per_mtok
        write_price = self.cache_write_micros_per_mtok
        plain_input = max(0, usage.prompt_tokens - usage.cached_tokens - usage.cache_write_tokens)
        numerator = (
            plain_input * input_price
            + usage.cached_tokens * (input_price if cached_price is None else cached_price)
            + usage.cache_write_tokens * (input_price if write_price is None else write_price)
            + usage.completion_tokens * self.output_micros_per_mtok
        )
        return -(-numerator // 1_000_000)


def _micros(usd: Decimal | None, label: str) -> int:
    if usd is None:  # settings from a file are priced or refused (hub.config.prices)
        raise ValueError(f"deployment {label} has no price")
    return int(usd * _MICROS)


class ModelSettings(Section):
    # Filled from the table's name ([models.<alias>]); not a key of its own.
    alias: str = Field(json_schema_extra={"from_table_name": True})
    deployments: tuple[DeploymentSettings, ...] = Field(
        (),
        description="Tried in order (fallback): `{ provider, model, input_usd_per_mtok, "
        "output_usd_per_mtok }` each; see below. At least one, unless strategy is auto.",
    )
    context_tokens: int = Field(8192, ge=1, description="Context budget used to trim chat history.")
    vision: bool = Field(False, description="Accepts image parts.")
    # Routing and caching (hub/routing, hub/cache).
    strategy: Strategy = Field(
        "priority",
        description="priority (in order), weighted, latency, cost, or auto (by `tiers`).",
    )
    sticky: Sticky = Field(
        "none", description='Weighted: keep one "user", "thread" or "team" on one deployment.'
    )
    tiers: tuple[tuple[str, str], ...] = Field(
        (),
        description='Auto: `{ simple = "alias", medium = ..., complex = ..., reasoning = ... }`.',
        json_schema_extra={"shown_as": "table of tier = alias"},
    )
    classifier: str | None = Field(None, description="Auto: the alias that classifies prompts.")
    downgrade_at_percent: float | None = Field(
        None, ge=1, le=100, description="Past this share of the budget, use `downgrade_to`."
    )
    downgrade_to: str | None = Field(None, description="The alias used past the threshold.")
    cache_ttl_s: int = Field(
        0, ge=0, le=100_000_000, description="Keep whole answers this many seconds (0: no cache)."
    )
    cache_scope: CacheScope = Field(
        "team", description='"global": every team shares answers (non-personal prompts only).'
    )
    cache_sampled: bool = Field(False, description="Also cache requests with temperature > 0.")
    show_model: bool = Field(False, description="Answers name the deployment that served them.")
    drop_params: bool | None = Field(
        None, description="As `[router] drop_params`, for this alias (unset: the router's)."
    )

    @property
    def reply_room_tokens(self) -> int:
        """Room chat connectors leave for the answer when trimming history to
        `context_tokens`: the longest answer a deployment gives, at most a quarter of it."""
        longest = max((d.output_limit("openai") for d in self.deployments), default=1024)
        return min(longest, self.context_tokens // 4)

    @field_validator("tiers", mode="before")
    @classmethod
    def _tier_table(cls, value: Any) -> Any:
        """`tiers = { complex = "strong", simple = "cheap" }`, kept weakest tier first."""
        if not isinstance(value, dict):
            return value
        unknown = sorted(set(value) - set(TIERS))
        if unknown:
            raise ValueError(f"unknown tier(s) {', '.join(unknown)}; tiers are {', '.join(TIERS)}")
        return tuple((tier, value[tier]) for tier in TIERS if tier in value)

    @model_validator(mode="after")
    def _routing_rules(self) -> ModelSettings:
        if self.strategy == "auto" and not self.tiers:
            raise ValueError('strategy = "auto" needs tiers = { simple = "..." }')
        if self.strategy != "auto" and not self.deployments:
            raise ValueError("deployments needs at least one deployment")
        if (self.downgrade_at_percent is None) != (self.downgrade_to is None):
            raise ValueError("downgrade_at_percent and downgrade_to go together")
        return self
