"""The five token types billing knows, and one deployment's prices for each.

A usage splits into disjoint counts, so nothing is billed twice:
    input        = prompt - cached - cache_write   (input excludes cached input)
    cached_input = cached
    cache_write  = cache_write
    output       = completion - reasoning          (output excludes reasoning)
    reasoning    = reasoning
Reasoning tokens are priced at the output price (providers bill them as output), so the five
amounts add up to exactly the ledger's cost formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub.config import DeploymentSettings
from hub.model import Usage

TokenType = Literal["input", "cached_input", "cache_write", "output", "reasoning"]
TOKEN_TYPES: tuple[TokenType, ...] = ("input", "cached_input", "cache_write", "output", "reasoning")
TOKEN_TYPE_NAMES: dict[str, str] = {
    "input": "input tokens",
    "cached_input": "cached input tokens",
    "cache_write": "cache write tokens",
    "output": "output tokens",
    "reasoning": "reasoning tokens",
}


def split_counts(
    *, prompt: int, completion: int, cached: int, cache_write: int, reasoning: int
) -> dict[TokenType, int]:
    """The disjoint count of each token type (all five keys, zeros included)."""
    return {
        "input": max(0, prompt - cached - cache_write),
        "cached_input": cached,
        "cache_write": cache_write,
        "output": max(0, completion - reasoning),
        "reasoning": min(reasoning, completion),
    }


def split_usage(usage: Usage) -> dict[TokenType, int]:
    return split_counts(
        prompt=usage.prompt_tokens,
        completion=usage.completion_tokens,
        cached=usage.cached_tokens,
        cache_write=usage.cache_write_tokens,
        reasoning=usage.reasoning_tokens,
    )


@dataclass(frozen=True, slots=True)
class UnitPrices:
    """Micro-USD per million tokens of each type; cache prices default to the input price."""

    input: int
    output: int
    cached_input: int | None = None
    cache_write: int | None = None

    def of(self, token_type: TokenType) -> int:
        if token_type == "input":
            return self.input
        if token_type == "cached_input":
            return self.input if self.cached_input is None else self.cached_input
        if token_type == "cache_write":
            return self.input if self.cache_write is None else self.cache_write
        return self.output  # output and reasoning

    def cost_of(self, usage: Usage) -> int:
        """Micro-USD, rounded up once: the ledger's formula (architecture.md)."""
        counts = split_usage(usage)
        numerator = sum(count * self.of(kind) for kind, count in counts.items())
        return -(-numerator // 1_000_000)

    def worst_case(self, prompt_tokens: int, completion_tokens: int) -> int:
        """The most these tokens can cost: every prompt token at the dearest input price (a
        cache write costs more than plain input at Anthropic), completion at the output's."""
        dearest = max(self.of("input"), self.of("cached_input"), self.of("cache_write"))
        numerator = prompt_tokens * dearest + completion_tokens * self.output
        return -(-numerator // 1_000_000)

    @classmethod
    def of_deployment(cls, deployment: DeploymentSettings) -> UnitPrices | None:
        if not deployment.priced or deployment.catalog_priced:
            return None  # the catalog's version in force applies (price_book.py)
        return cls(
            input=deployment.input_micros_per_mtok,
            output=deployment.output_micros_per_mtok,
            cached_input=deployment.cached_input_micros_per_mtok,
            cache_write=deployment.cache_write_micros_per_mtok,
        )
