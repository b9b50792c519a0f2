"""How a chat request ended, and what it is charged: the classification `ChatStream` makes
on exit, before it settles.

- the status: `ok` (the stream finished), `partial` (output reached the caller, then the
  provider failed), `error`, `cancelled` (the caller left early, pressed Stop, or its task
  was cancelled), `cached` (answered from the response cache);
- the usage: the provider's own count; the hold's when the provider's count cannot be used
  (`InvalidUsage`); what was seen, within what was held, when the provider never reported
  it (cut short);
- the cost at the price in force now, what the strongest tier would have cost (`auto`
  routing), and on a cache hit the `[cache] charge` and the cost saved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from hub.billing.price_book import PriceBook
from hub.cache.store import CachedAnswer
from hub.config import DeploymentSettings
from hub.errors import Cancelled, HubError, InvalidUsage, ProviderError, StreamInterrupted
from hub.model import NO_USAGE, ChatResult, Status, Usage
from hub.routing.settings import CacheCharge


def classify(
    result: ChatResult,
    exc: BaseException | None,
    *,
    finished: bool,
    deployment: DeploymentSettings | None,
    attempts: int,
    latency_ms: int,
    held_usage: Callable[[], Usage],
    completion_held: int | None,
    prompt_tokens: int,
    metered_tokens: int,
    prices: PriceBook,
    now: datetime,
    strongest: DeploymentSettings | None,
    hit: CachedAnswer | None,
    cache_charge: CacheCharge,
) -> None:
    """Fill in `result`'s status, error, usage and money for an ending by `exc` (None: the
    block ended normally; `finished`: the stream reached its end)."""
    result.deployment = deployment.label if deployment else None
    result.attempts = attempts
    result.latency_ms = latency_ms
    if exc is None and finished:
        result.status = Status.OK
    elif isinstance(exc, InvalidUsage):  # never booked as reported: billed at the hold
        result.status, result.error = Status.ERROR, exc
        result.usage = held_usage()
    elif isinstance(exc, StreamInterrupted) or (
        isinstance(exc, ProviderError) and result.has_output
    ):
        result.status, result.error = Status.PARTIAL, exc
    elif isinstance(exc, HubError) and not isinstance(exc, Cancelled):
        result.status, result.error = Status.ERROR, exc
    elif exc is None or isinstance(exc, asyncio.CancelledError | GeneratorExit | Cancelled):
        result.status = Status.CANCELLED  # left early, pressed Stop, or task cancelled
    else:
        result.status, result.error = Status.ERROR, exc
    usage = result.usage
    if (usage is NO_USAGE or usage == NO_USAGE) and (
        result.has_output or result.status == Status.CANCELLED
    ):
        # The provider never reported usage (cut short): count what was seen, within what
        # was held (the provider stopped at the limit it was sent).
        seen = len(result.text) + result.other_output_chars
        counted = max(seen // 4 + (1 if seen else 0), metered_tokens)
        result.usage = Usage(
            prompt_tokens=prompt_tokens if attempts else 0,
            completion_tokens=counted if completion_held is None else min(counted, completion_held),
        )
    result.cost_micros = (
        prices.cost_of(deployment, result.usage, at=now) if deployment is not None else 0
    )
    if strongest is not None:  # what the strongest tier would have cost (savings query)
        result.counterfactual_micros = prices.cost_of(strongest, result.usage, at=now)
    if hit is not None:  # no provider call: the charge of [cache] charge, the cost saved
        result.deployment, result.saved_micros = hit.deployment, hit.cost_micros
        result.cost_micros = 0
        if result.status == Status.OK:
            result.status = Status.CACHED
            result.cost_micros = cache_charge.of(hit.cost_micros)
