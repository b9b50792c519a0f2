"""Holds whose request will never settle (its process died) become `interrupted` records.

A hold carries what its usage record needs (`HoldContext`: who pays, where from, the alias,
the prompt estimate) and the stream's progress (the deployment answering and the completion
tokens seen, checkpointed every few seconds: hub/ledger/checkpoints.py). `claim_holds`
deletes the holds it is given and, in the same transaction, releases each one's money and
writes its one usage record: prompt tokens from the estimate, completion tokens from the
last checkpoint, cost from those (never more than was held), marked as estimated.

Claiming is deleting: of two processes recovering the same hold, or a recovery racing the
request's own late settle, exactly one deletes the row (PostgreSQL's row lock, SQLite's
single writer), so the money moves once and one record is written. A late settle that finds
its hold recovered corrects the estimated record to the provider's count
(`Budget.settle`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete

from hub.billing.price_book import PriceBook
from hub.config import ModelSettings
from hub.fastjson import dumps_str
from hub.ledger.counters import Move, move_counters
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_writer import write_usage
from hub.ledger.writer import Tx
from hub.model import Caller, Origin, Usage
from hub.store.ledger_tables import Reservation

log = logging.getLogger("hub.ledger")

INTERRUPTED = "interrupted"
# (alias, deployment label or None, usage, when) -> micro-USD, or None when it cannot be priced.
CostEstimate = Callable[[str, str | None, Usage, datetime], int | None]
_HOLDS = cast(Table, Reservation.__table__)


@dataclass(frozen=True, slots=True)
class HoldContext:
    """What the request's usage record needs, should its process die before settling."""

    request_id: str
    caller: Caller
    origin: Origin
    alias: str
    prompt_tokens: int  # the reservation's estimate

    def json(self) -> str:
        # Written with every reservation: orjson takes the dataclasses as they are, where
        # `asdict` deep-copied them field by field first.
        return dumps_str(
            {
                "caller": self.caller,
                "origin": self.origin,
                "alias": self.alias,
                "prompt_tokens": self.prompt_tokens,
            }
        )

    @classmethod
    def parse(cls, request_id: str, raw: str) -> HoldContext:
        data = json.loads(raw)
        return cls(
            request_id=request_id,
            caller=Caller(**data["caller"]),
            origin=Origin(**data["origin"]),
            alias=str(data["alias"]),
            prompt_tokens=int(data["prompt_tokens"]),
        )


def price_estimate(models: Mapping[str, ModelSettings], prices: PriceBook) -> CostEstimate:
    """The cost of an interrupted request: at its deployment's price when the checkpoint
    named one, else at the dearest deployment of its alias (an upper bound)."""

    def estimate(alias: str, deployment: str | None, usage: Usage, at: datetime) -> int | None:
        model = models.get(alias)
        if model is None:
            return None
        chosen = [d for d in model.deployments if d.label == deployment] or model.deployments
        try:
            return prices.worst_case(
                chosen,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                at=at,
            )
        except Exception:  # noqa: BLE001 - an unpriced deployment: charge the hold instead
            log.warning("cannot price interrupted request on %s", alias, exc_info=True)
            return None

    return estimate


def claim_holds(
    tx: Tx,
    which: ColumnElement[bool],
    *,
    now: datetime,
    estimate: CostEstimate | None,
    on_usage: Callable[[UsageEntry], None],
) -> int:
    """Delete the holds matching `which`, release their money and write each one's
    `interrupted` record (holds without a context, taken outside a request, are only
    released). A ledger writer job (hub/ledger/writer.py); how many holds were claimed."""
    holds = tx.conn.execute(delete(_HOLDS).where(which).returning(*_HOLDS.c)).all()
    for hold in holds:
        entry = _interrupted(hold, now=now, estimate=estimate)
        spend = (entry.cost_micros, entry.tokens_charged) if entry is not None else (0, 0)
        move = Move(hold.cost_micros, hold.tokens, *spend)
        move_counters(tx.conn, {int(c): move for c in hold.counter_ids.split(",")})
        if entry is not None:
            write_usage(tx.conn, [(entry, now)])
            tx.after_commit(partial(on_usage, entry))
            log.warning(
                "request %s interrupted (its process %s stopped): %d prompt and %d completion "
                "tokens estimated, %d micro-USD",
                entry.request_id,
                hold.instance_id,
                entry.usage.prompt_tokens,
                entry.usage.completion_tokens,
                entry.cost_micros,
            )
    return len(holds)


def _interrupted(hold: Any, *, now: datetime, estimate: CostEstimate | None) -> UsageEntry | None:
    """`hold`: a reservations row (attributes by column name)."""
    if hold.context is None or hold.request_id is None:
        return None
    context = HoldContext.parse(hold.request_id, hold.context)
    # No more tokens than were held: the counters then move back to where they were.
    prompt = min(context.prompt_tokens, hold.tokens)
    usage = Usage(
        prompt_tokens=prompt,
        completion_tokens=max(0, min(hold.completion_tokens, hold.tokens - prompt)),
    )
    priced = estimate(context.alias, hold.deployment, usage, now) if estimate else None
    cost = hold.cost_micros if priced is None else min(priced, hold.cost_micros)
    return UsageEntry(
        request_id=context.request_id,
        caller=context.caller,
        origin=context.origin,
        alias=context.alias,
        deployment=hold.deployment,
        usage=usage,
        cost_micros=cost,
        latency_ms=max(0, int((now - hold.created_at).total_seconds() * 1000)),
        ttft_ms=None,
        status=INTERRUPTED,
        error_code="instance_lost",
        estimated=True,
    )
