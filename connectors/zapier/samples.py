"""Recent real items for a trigger's `performList`, newest first, each with a stable `id`.

Completions come from usage records, enriched with prompt and output where an outbox event
holds them (only when a subscription existed at the time). Budget alerts come from outbox
events, else from the alert ledger. Invoices come from `hub.billing` (issued ones, void ones
too: they were announced when issued), shaped as the `invoice.created` event's data. Only
when a team has none yet is one sample returned, marked `"sample": true`, because Zapier
needs an item to map fields from.
"""

from __future__ import annotations

from typing import Any

from connectors.zapier.events import budget_item_id
from hub.events.recent import RecentItems
from hub.ledger.money import micros_to_usd
from hub.ledger.periods import resets_at
from hub.model import Caller
from hub.service import Hub

LIMIT = 10


def event_item(envelope: dict[str, Any]) -> dict[str, Any]:
    data = dict(envelope["data"])
    if envelope["type"] == "budget.threshold":
        data["id"] = budget_item_id(data)
    data["created_at"] = envelope["timestamp"]
    return data


async def completions(hub: Hub, caller: Caller) -> list[dict[str, Any]]:
    recent = RecentItems.for_hub(hub)
    envelopes = await recent.event_envelopes(caller.team_id, "completion.created")
    stored = {e["data"]["id"]: e for e in envelopes}
    items = []
    for row in await recent.usage_records(caller.team_id, limit=LIMIT):
        if row.request_id in stored:
            items.append(event_item(stored[row.request_id]))
            continue
        items.append(
            {
                "id": row.request_id,
                "team": caller.team_name,
                "connector": row.connector,
                "user": row.user,
                "model": row.alias,
                "deployment": row.deployment,
                "status": row.status,
                "prompt": "",  # not kept outside the outbox
                "output": "",
                "usage": {
                    "prompt_tokens": row.prompt_tokens,
                    "completion_tokens": row.completion_tokens,
                    "total_tokens": row.prompt_tokens + row.completion_tokens,
                },
                "cost_usd": micros_to_usd(row.cost_micros),
                "latency_ms": row.latency_ms,
                "created_at": row.created_at.isoformat(),
            }
        )
    return items or [SAMPLE_COMPLETION | {"team": caller.team_name}]


async def budget_alerts(hub: Hub, caller: Caller) -> list[dict[str, Any]]:
    recent = RecentItems.for_hub(hub)
    events = await recent.event_envelopes(caller.team_id, "budget.threshold")
    if events:
        return [event_item(e) for e in events[:LIMIT]]
    items = []
    for found in await recent.budget_alerts(caller.team_id, limit=LIMIT):
        alert, quota = found.alert, found.quota
        limit: float | int | None = None
        if quota is not None:
            limit = (
                micros_to_usd(quota.cost_limit_micros or 0)
                if alert.metric == "cost"
                else quota.token_limit
            )
        data: dict[str, Any] = {
            "team": caller.team_name,
            "scope": alert.scope,
            "scope_id": alert.scope_id,
            "window": alert.window,
            "period": alert.period,
            "metric": alert.metric,
            "threshold_percent": alert.threshold,
            "limit": limit,
            "used": None,  # the alert ledger keeps the crossing, not the amount
            "resets_at": resets_at(alert.window, alert.created_at).isoformat(),
        }
        items.append(
            data | {"id": budget_item_id(data), "created_at": alert.created_at.isoformat()}
        )
    return items or [SAMPLE_BUDGET_ALERT | {"team": caller.team_name}]


async def invoices(hub: Hub, caller: Caller) -> list[dict[str, Any]]:
    found = [
        v for v in await hub.billing.invoices.list(team_id=caller.team_id) if v.number is not None
    ]
    found.sort(key=lambda v: (v.issued_at or v.created_at, v.id), reverse=True)
    items = [
        {
            "id": v.id,
            "number": v.number,
            "team": v.team,
            "period": v.period,
            "total_usd": micros_to_usd(v.total_micros),
            "currency": v.currency,
            "created_at": (v.issued_at or v.created_at).isoformat(),
        }
        for v in found[:LIMIT]
    ]
    return items or [SAMPLE_INVOICE | {"team": caller.team_name}]


SAMPLE_COMPLETION: dict[str, Any] = {
    "id": "sample-completion",
    "sample": True,
    "connector": "webhooks",
    "user": None,
    "model": "default",
    "deployment": "openai/gpt-4o-mini",
    "status": "ok",
    "prompt": "Summarise this ticket in one sentence.",
    "output": "The customer cannot log in after the password reset.",
    "usage": {"prompt_tokens": 42, "completion_tokens": 12, "total_tokens": 54},
    "cost_usd": 0.000014,
    "latency_ms": 850,
    "created_at": "2026-01-01T00:00:00+00:00",
}

SAMPLE_BUDGET_ALERT: dict[str, Any] = {
    "id": "sample-budget-alert",
    "sample": True,
    "scope": "team",
    "scope_id": 0,
    "window": "month",
    "period": "2026-01-01",
    "metric": "cost",
    "threshold_percent": 80,
    "limit": 50.0,
    "used": 40.0,
    "resets_at": "2026-02-01T00:00:00+00:00",
    "created_at": "2026-01-20T00:00:00+00:00",
}

SAMPLE_INVOICE: dict[str, Any] = {
    "id": 0,
    "sample": True,
    "number": "INV-000001",
    "period": "2026-01",
    "total_usd": 42.5,
    "currency": "usd",
    "created_at": "2026-02-01T00:10:00+00:00",
}
