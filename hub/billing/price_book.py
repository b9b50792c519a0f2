"""Which price applies to a deployment at a moment: the one place requests are priced.

A deployment's own prices in the config file come first; otherwise the catalog version of its
model in force at that moment (so a record is always priced at the price in force when it
was made, and an imported price change takes effect without a restart). A deployment priced
by neither is refused when the book loads at start-up, by name: never a silent $0.

The book is held in memory (the hot path reads no table) and reloaded from the database at
most every `RELOAD_S` seconds, or at once in the process that imported a change.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hub.billing.catalog import PriceCatalog
from hub.billing.litellm_prices import CatalogEntry, PriceListError, read_price_list
from hub.billing.token_prices import UnitPrices
from hub.clock import Clock
from hub.config import ConfigError, DeploymentSettings, ModelSettings, ProviderSettings
from hub.model import Usage

RELOAD_S = 60.0


@dataclass(slots=True)
class _Versions:
    starts: list[datetime] = field(default_factory=list)
    prices: list[UnitPrices] = field(default_factory=list)

    def at(self, moment: datetime) -> UnitPrices | None:
        index = bisect.bisect_right(self.starts, moment) - 1
        return self.prices[index] if index >= 0 else None


def catalog_keys(deployment: DeploymentSettings, provider_type: str) -> list[str]:
    """Names a deployment's model may have in a LiteLLM-format list, most specific first."""
    model = deployment.model
    keys = [f"{provider_type}/{model}", f"{deployment.provider}/{model}", model]
    if "/" in model:
        keys.append(model.rsplit("/", 1)[1])
    return list(dict.fromkeys(keys))


_OWN_PRICES_KEPT = 1024  # deployments whose own prices are kept (the config has few)


class PriceBook:
    def __init__(
        self,
        catalog: PriceCatalog,
        clock: Clock,
        *,
        models: Mapping[str, ModelSettings],
        providers: Mapping[str, ProviderSettings],
        snapshot: Path,
    ) -> None:
        self._catalog = catalog
        self._clock = clock
        self._models = models
        self._providers = providers
        self._snapshot = snapshot
        self._versions: dict[str, _Versions] = {}
        self._loaded_at: float | None = None
        self._loading = asyncio.Lock()  # concurrent first requests load it once
        self._by_label = {d.label: d for m in models.values() for d in m.deployments}
        # A deployment's own config prices, by the deployment object (kept, so its id stays
        # its own): read several times per request, and the settings are frozen.
        self._own: dict[int, tuple[DeploymentSettings, UnitPrices | None]] = {}

    async def load(self) -> None:
        """Sync the shipped snapshot, read every version, and refuse unpriced deployments."""
        await self._catalog.sync_snapshot(self._read_snapshot())
        await self.reload()
        now = self._clock.now()
        unpriced = [
            f"models.{alias}: deployment {d.label}"
            for alias, m in self._models.items()
            for d in m.deployments
            if self.deployment_prices(d, now) is None
        ]
        if unpriced:
            raise ConfigError(
                "no price for " + "; ".join(unpriced) + ". Give the deployment "
                "input_usd_per_mtok and output_usd_per_mtok, or import a price list that "
                "names its model (`hub prices import FILE`)."
            )

    async def reload(self) -> None:
        versions: dict[str, _Versions] = {}
        for version in await self._catalog.versions():
            entry = versions.setdefault(version.model, _Versions())
            entry.starts.append(version.effective_from)
            entry.prices.append(version.prices)
        self._versions = versions
        self._loaded_at = self._clock.monotonic()

    async def ready(self) -> PriceBook:
        """The book, loaded (first use) and no older than RELOAD_S."""
        if self._loaded_at is not None and self._clock.monotonic() - self._loaded_at <= RELOAD_S:
            return self
        async with self._loading:
            if self._loaded_at is None:
                await self.load()
            elif self._clock.monotonic() - self._loaded_at > RELOAD_S:
                await self.reload()
        return self

    def _read_snapshot(self) -> list[CatalogEntry]:
        try:
            return read_price_list(self._snapshot)
        except PriceListError as exc:
            raise ConfigError(f"billing.price_catalog: {exc}") from exc

    def _provider_type(self, deployment: DeploymentSettings) -> str:
        provider = self._providers.get(deployment.provider)
        return provider.type if provider is not None else deployment.provider

    def deployment_prices(self, deployment: DeploymentSettings, at: datetime) -> UnitPrices | None:
        own = self._own_prices(deployment)
        if own is not None:
            return own
        for key in catalog_keys(deployment, self._provider_type(deployment)):
            versions = self._versions.get(key)
            if versions is not None:
                found = versions.at(at)
                if found is not None:
                    return found
        return None

    def _own_prices(self, deployment: DeploymentSettings) -> UnitPrices | None:
        found = self._own.get(id(deployment))
        if found is not None and found[0] is deployment:
            return found[1]
        own = UnitPrices.of_deployment(deployment)
        if len(self._own) >= _OWN_PRICES_KEPT:
            self._own.clear()
        self._own[id(deployment)] = (deployment, own)
        return own

    def _deployment_of(self, label: str) -> DeploymentSettings:
        """The configured deployment a record's label (`provider/model`) names, else one made
        from the label (a deployment since removed from the config)."""
        deployment = self._by_label.get(label)
        if deployment is None:
            provider, _, model = label.partition("/")
            deployment = DeploymentSettings(provider=provider, model=model or provider)
        return deployment

    def label_prices(self, label: str | None, at: datetime) -> UnitPrices | None:
        """Prices of a usage record's deployment (`provider/model`) at the record's time."""
        if not label:
            return None
        deployment = self._deployment_of(label)
        return self.deployment_prices(deployment, at)

    def steady(self, label: str | None, since: datetime, until: datetime) -> bool:
        """Whether the label's prices are one and the same throughout [since, until): no
        catalog version of any name its model may have starts inside (config prices never
        change in a running book). Rollups are priced by the hour only where this holds."""
        if not label:
            return True
        deployment = self._deployment_of(label)
        if UnitPrices.of_deployment(deployment) is not None:
            return True
        for key in catalog_keys(deployment, self._provider_type(deployment)):
            versions = self._versions.get(key)
            if versions is not None:
                start = bisect.bisect_right(versions.starts, since)
                if start < len(versions.starts) and versions.starts[start] < until:
                    return False
        return True

    def require(self, deployment: DeploymentSettings, at: datetime) -> UnitPrices:
        found = self.deployment_prices(deployment, at)
        if found is None:
            raise ConfigError(f"deployment {deployment.label} has no price in force at {at}")
        return found

    def cost_of(self, deployment: DeploymentSettings, usage: Usage, *, at: datetime) -> int:
        return self.require(deployment, at).cost_of(usage)

    def worst_case(
        self,
        deployments: Iterable[DeploymentSettings],
        *,
        prompt_tokens: int,
        completion_tokens: int,
        at: datetime,
    ) -> int:
        return max(
            self.require(d, at).worst_case(prompt_tokens, completion_tokens) for d in deployments
        )
