"""Settling one chat request: its usage record as the ledger writes it, then what follows
from it (the budget notices, the tokens charged to the rate limits).

The settlement never fails the request: it is retried, and journaled while the database is
away (hub/ledger/settlements.py); the record is durable before the caller gets its answer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from hub.ledger.budget import Hold, Settlement
from hub.ledger.usage_entry import UsageEntry
from hub.model import ChatRequest, ChatResult, Status
from hub.ratelimit import AppliedLimit

if TYPE_CHECKING:
    from hub.service import Hub

log = logging.getLogger("hub.chat")
# A settlement queued (`Settlements.queue`): the hold, the record, the ledger's first attempt.
Settling = tuple[Hold, UsageEntry, asyncio.Future[Settlement]]


def usage_entry(
    request: ChatRequest,
    result: ChatResult,
    *,
    first_deployment: str | None,
    charged_tokens: int | None,
    prompt_hash: str,
) -> UsageEntry:
    """The request's one usage record, from its result (classified: status, usage, cost);
    `prompt_hash`: the request's (hub/prompt_hash.py), worked out by the stream meanwhile."""
    error = result.error
    return UsageEntry(
        request_id=result.request_id,
        caller=request.caller,
        origin=request.origin,
        alias=result.alias,
        deployment=result.deployment,
        usage=result.usage,
        cost_micros=result.cost_micros,
        latency_ms=result.latency_ms,
        ttft_ms=result.ttft_ms,
        status=result.status.value,
        error_code=getattr(error, "code", type(error).__name__) if error else None,
        prompt=next((m.plain_text for m in reversed(request.messages) if m.role == "user"), ""),
        output=result.text,
        saved_micros=result.saved_micros,
        counterfactual_micros=result.counterfactual_micros,
        requested_alias=result.requested_alias,
        routed_by=result.routed_by,
        experiment_id=result.experiment_id,
        variant=result.variant,
        charged_tokens=charged_tokens if result.status == Status.CACHED else None,
        prompt_hash=prompt_hash,
        first_deployment=first_deployment,
    )


async def settle_request(
    hub: Hub,
    hold: Hold,
    entry: UsageEntry,
    attempt: asyncio.Future[Settlement],
    result: ChatResult,
    limits: list[AppliedLimit],
) -> None:
    """Release the hold and book `entry` (`attempt`: its settlement as queued,
    `hub.settlements.queue`); note the record's id on `result`."""
    if entry.cost_micros > hold.cost_micros or entry.tokens_charged > hold.tokens:
        # The provider counted more than the upper bound held: book its count as it is;
        # the counters then refuse the team once past a limit, until the period resets.
        log.warning(
            "request %s used more than it held: %d micro-USD and %d tokens against %d and %d",
            entry.request_id,
            entry.cost_micros,
            entry.tokens_charged,
            hold.cost_micros,
            hold.tokens,
        )
    # Retried, and journaled if the database is away: never an error for the caller.
    settlement = await hub.settlements.settle(hold, entry, attempt)
    if settlement is not None:
        result.usage_id = settlement.usage_id
        hub.notices.budget_crossed(entry.caller.team_id, settlement.thresholds)
    try:
        await hub.rate_limits.charge_tokens(limits, entry.tokens_charged)
    except Exception:  # noqa: BLE001 - the request is done and paid; say so and move on
        log.warning("could not charge tokens to the rate limiter", exc_info=True)
