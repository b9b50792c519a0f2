"""A finished request as plain JSON: the shape every non-chat connector answers with (a sync
webhook, its callback, Zapier's Ask LLM action), so they stay one shape."""

from __future__ import annotations

from typing import Any

from hub.ledger.money import micros_to_usd
from hub.model import ChatResult


def result_summary(result: ChatResult, metadata: Any = None) -> dict[str, Any]:
    return {
        "id": result.request_id,
        "output": result.text,
        "model": result.alias,
        "usage": {
            "prompt_tokens": result.usage.prompt_tokens,
            "completion_tokens": result.usage.completion_tokens,
        },
        "cost_usd": micros_to_usd(result.cost_micros),
        "metadata": metadata,
    }
