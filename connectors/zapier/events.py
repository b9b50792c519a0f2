"""Zapier trigger names and the hub event each one subscribes to."""

from __future__ import annotations

from hub.errors import BadRequest

TRIGGERS = {
    "new_completion": "completion.created",
    "budget_alert": "budget.threshold",
    "new_invoice": "invoice.created",
    "key_created": "key.created",
    "key_revoked": "key.revoked",
}


def hub_event(trigger: str) -> str:
    """The hub event type for a Zapier trigger name (hub names are accepted as they are)."""
    if trigger in TRIGGERS:
        return TRIGGERS[trigger]
    if trigger in TRIGGERS.values():
        return trigger
    raise BadRequest(f"Unknown event '{trigger}'; known: {', '.join(TRIGGERS)}.")


def budget_item_id(data: dict[str, object]) -> str:
    """Stable id of a threshold crossing; the Zapier app derives the same from pushed events."""
    return "-".join(
        str(data.get(k))
        for k in ("scope", "scope_id", "window", "period", "metric", "threshold_percent")
    )
