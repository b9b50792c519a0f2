"""Billing test helpers: a hub on a fake clock in March 2026, usage written through the one
writer of usage records, and plans."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hub.clock import FakeClock
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_writer import record_usage
from hub.model import Caller, Origin, Usage
from tests.support.hubs import RunningHub

MARCH_1 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def march(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)


def three_models(openai_url: str = "http://127.0.0.1:9/v1") -> dict[str, Any]:
    """gpt and claude take the shipped catalog's prices; mini has its own in the config."""
    return {
        "providers": {
            "up": {"type": "openai", "base_url": openai_url, "api_key": "sk-x"},
            "anth": {"type": "anthropic", "base_url": "http://127.0.0.1:9", "api_key": "sk-y"},
        },
        "models": {
            "gpt": {"deployments": [{"provider": "up", "model": "gpt-4o"}]},
            "mini": {
                "deployments": [
                    {
                        "provider": "up",
                        "model": "house-mini",
                        "input_usd_per_mtok": 0.2,
                        "output_usd_per_mtok": 0.8,
                        "cached_input_usd_per_mtok": 0.1,
                    }
                ]
            },
            "claude": {"deployments": [{"provider": "anth", "model": "claude-sonnet-4-20250514"}]},
        },
    }


DEPLOYMENTS = {
    "gpt": "up/gpt-4o",
    "mini": "up/house-mini",
    "claude": "anth/claude-sonnet-4-20250514",
}
_counter = iter(range(1, 1_000_000))


async def record(
    running: RunningHub, *, at: datetime, alias: str, team_id: int | None = None, **tokens: int
) -> int:
    """One usage record made at `at`, costed at the price in force then."""
    hub = running.hub
    book = await hub.prices.ready()
    usage = Usage(**tokens)
    label = DEPLOYMENTS[alias]
    prices = book.label_prices(label, at)
    assert prices is not None
    team = team_id or running.team.id
    entry = UsageEntry(
        request_id=f"chatcmpl-test{next(_counter):06d}",
        caller=Caller(team_id=team, team_name="t"),
        origin=Origin(connector="test", user="u1"),
        alias=alias,
        deployment=label,
        usage=usage,
        cost_micros=prices.cost_of(usage),
        latency_ms=1,
        ttft_ms=None,
        status="ok",
    )
    async with hub.sessions.begin() as session:
        return await record_usage(session, entry, now=at)


def at(running: RunningHub, moment: datetime) -> None:
    clock = running.clock
    assert isinstance(clock, FakeClock)
    clock.advance((moment - clock.now()).total_seconds())
