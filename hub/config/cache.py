"""`[cache]`: where the response cache keeps answers and what a hit costs the team."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from hub.config.base import Section
from hub.routing.settings import CacheBackend, CacheCharge


def _charge(value: Any) -> Any:
    return CacheCharge.parse(value) if isinstance(value, str) else value


class CacheSettings(Section):
    backend: CacheBackend = Field(
        "memory",
        description='"memory" (per process) or "redis" (shared; needs [redis] url) for the '
        "answers of aliases with cache_ttl_s.",
    )
    charge: Annotated[CacheCharge, BeforeValidator(_charge)] = Field(
        CacheCharge(),
        description='What a hit takes from the budget: "none", "full" (the original '
        'answer\'s cost) or "discount:<percent>".',
        json_schema_extra={"shown_as": "text"},
    )
    max_entries: int = Field(
        10_000, ge=1, le=100_000_000, description="Memory backend: least recently used go first."
    )
