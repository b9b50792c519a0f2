"""The price list file as the configuration's price catalog (hub/config/prices.py): a
deployment that names no prices is priced from it when the settings are loaded, or refused.

Prices found here only vouch that the model has a price; at run time the price book
(price_book.py) charges the version in force, so a later `hub prices import` applies too.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path

from hub.billing.litellm_prices import read_price_list
from hub.billing.token_prices import UnitPrices
from hub.config.prices import Prices

_MICROS = Decimal(1_000_000)
# Package data (pyproject), so an installed wheel, not only a checkout, has it.
SHIPPED_SNAPSHOT = Path(__file__).resolve().with_name("model_prices.json")


def _usd(micros: int | None) -> Decimal | None:
    return None if micros is None else Decimal(micros) / _MICROS


def as_prices(prices: UnitPrices) -> Prices:
    return Prices(
        input_usd_per_mtok=Decimal(prices.input) / _MICROS,
        output_usd_per_mtok=Decimal(prices.output) / _MICROS,
        cached_input_usd_per_mtok=_usd(prices.cached_input),
        cache_write_usd_per_mtok=_usd(prices.cache_write),
    )


@cache
def _entries(path: Path) -> dict[str, UnitPrices]:
    return {e.model: e.prices for e in read_price_list(path)}


class FileCatalog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def prices(self, *, provider_type: str, model: str) -> Prices | None:
        entries = _entries(self.path)
        for key in (f"{provider_type}/{model}", model, model.rsplit("/", 1)[-1]):
            if key in entries:
                return as_prices(entries[key])
        return None


def snapshot_path(configured: str) -> Path:
    return Path(configured) if configured else SHIPPED_SNAPSHOT
