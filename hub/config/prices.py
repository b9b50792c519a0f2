"""Where a deployment's prices come from: its own keys, else a price catalog, else refused.

A model without prices would be free, so no budget would ever stop it. The billing work adds
a catalog (`PriceCatalog`); until then `NO_CATALOG` knows nothing and every deployment in the
file must carry `input_usd_per_mtok` and `output_usd_per_mtok`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Prices:
    input_usd_per_mtok: Decimal
    output_usd_per_mtok: Decimal
    cached_input_usd_per_mtok: Decimal | None = None
    cache_write_usd_per_mtok: Decimal | None = None


class PriceCatalog(Protocol):
    def prices(self, *, provider_type: str, model: str) -> Prices | None: ...


class NoCatalog:
    def prices(self, *, provider_type: str, model: str) -> Prices | None:
        return None


NO_CATALOG = NoCatalog()
