"""Reading a price list in LiteLLM's `model_prices_and_context_window.json` format.

Each key is a model name; prices are USD per token (`input_cost_per_token`,
`output_cost_per_token`, `cache_read_input_token_cost`, `cache_creation_input_token_cost`),
and `max_input_tokens` / `max_output_tokens` give the model's limits. Entries without both an
input and an output price (image models, `sample_spec`) are skipped, not guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from hub.billing.token_prices import UnitPrices

_MICROS_PER_MTOK_PER_USD_PER_TOKEN = Decimal(10) ** 12


class PriceListError(ValueError):
    """The file is not a price list; the message says where."""


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    model: str
    provider: str
    prices: UnitPrices
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None


def _per_mtok(value: Any, where: str) -> int | None:
    """USD per token to integer micro-USD per million tokens, exactly (no float on the way)."""
    if value is None:
        return None
    try:
        usd = Decimal(str(value))
    except InvalidOperation as exc:
        raise PriceListError(f"{where} is not a number: {value!r}") from exc
    if not usd.is_finite() or usd < 0:
        raise PriceListError(f"{where} must be a price of 0 or more, not {value!r}")
    return int((usd * _MICROS_PER_MTOK_PER_USD_PER_TOKEN).quantize(Decimal(1), ROUND_HALF_UP))


def _limit(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def parse_price_list(data: Any) -> list[CatalogEntry]:
    if not isinstance(data, dict):
        raise PriceListError("a price list is a JSON object of model name -> prices")
    entries = []
    for model, raw in data.items():
        if model == "sample_spec" or not isinstance(raw, dict):
            continue
        where = f"{model}"
        input_price = _per_mtok(raw.get("input_cost_per_token"), f"{where}.input_cost_per_token")
        output_price = _per_mtok(raw.get("output_cost_per_token"), f"{where}.output_cost_per_token")
        if input_price is None or output_price is None:
            continue
        entries.append(
            CatalogEntry(
                model=str(model),
                provider=str(raw.get("litellm_provider", "")),
                prices=UnitPrices(
                    input=input_price,
                    output=output_price,
                    cached_input=_per_mtok(
                        raw.get("cache_read_input_token_cost"),
                        f"{where}.cache_read_input_token_cost",
                    ),
                    cache_write=_per_mtok(
                        raw.get("cache_creation_input_token_cost"),
                        f"{where}.cache_creation_input_token_cost",
                    ),
                ),
                max_input_tokens=_limit(raw.get("max_input_tokens")),
                max_output_tokens=_limit(raw.get("max_output_tokens")),
            )
        )
    return entries


def read_price_list(path: Path) -> list[CatalogEntry]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise PriceListError(f"price list not found: {path}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PriceListError(f"{path} is not JSON: {exc}") from exc
    return parse_price_list(data)
