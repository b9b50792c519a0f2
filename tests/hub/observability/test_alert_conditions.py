"""What each kind of alert rule sees, read from the shared database (any process's view)."""

from __future__ import annotations

import asyncio

from hub.alerts.conditions import findings
from hub.clock import FakeClock
from hub.config.alerts import AlertRule
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_writer import record_usage
from hub.model import Caller, Origin, Usage
from hub.observability.links import link_states
from tests.support.hubs import RunningHub, start_hub


def rule(kind: str, **extra: object) -> AlertRule:
    return AlertRule.model_validate({"name": kind, "kind": kind, "teams": ["acme"], **extra})


async def seen(running: RunningHub, alert: AlertRule) -> list[tuple[str, str]]:
    async with running.hub.sessions() as session:
        found = await findings(
            session, alert, now=running.clock.now(), circuits={"demo/demo-1": "closed"}
        )
    return [(f.subject, f.summary) for f in found]


def entry(n: int, *, latency_ms: int, caller: Caller, cost: int = 1) -> UsageEntry:
    return UsageEntry(
        request_id=f"r{n}",
        caller=caller,
        origin=Origin(connector="openai_api"),
        alias="demo",
        deployment="demo/demo-1",
        usage=Usage(prompt_tokens=1, completion_tokens=1),
        cost_micros=cost,
        latency_ms=latency_ms,
        ttft_ms=None,
        status="ok",
    )


async def test_budget_latency_down_and_links(sqlite_url: str) -> None:
    clock = FakeClock()
    running = await start_hub(
        {}, database_url=sqlite_url, clock=clock, monthly_budget_micros=1_000_000
    )
    try:
        hub = running.hub
        caller = Caller(team_id=running.team.id, team_name="acme")
        budget = rule("budget", threshold=90)
        assert await seen(running, budget) == []
        hold = await hub.budget.reserve(caller, cost_micros=950_000, tokens=2)
        await hub.budget.settle(hold, entry(0, latency_ms=100, caller=caller, cost=950_000))
        assert await seen(running, budget) == [
            (
                "acme:month:budget:2026-11-01",
                "Team 'acme' has used 95% of its monthly budget (alert at 90%).",
            )
        ]

        latency = rule("latency_p95", threshold=1.5, min_requests=10, window_s=300)
        async with hub.sessions.begin() as session:
            for n in range(1, 20):  # 100 ms ... 1,900 ms
                await record_usage(
                    session, entry(n, latency_ms=n * 100, caller=caller), now=clock.now()
                )
        assert await seen(running, latency) == [
            (
                "all",
                "p95 latency of 'all' is 1.8 s over the last 5 min (20 requests; alert at 1.5 s).",
            )
        ]
        clock.advance(301)
        assert await seen(running, latency) == []  # they left the window

        log = hub.observability.attempts
        for _ in range(3):
            log.record("demo/demo-1", failed=True, now=clock.now())
        await hub.observability.flush_health()
        assert [s for s, _ in await seen(running, rule("deployment_down"))] == ["demo/demo-1"]

        lost = rule("connection_lost", threshold=60, platform="discord")
        await hub.links.report("discord", connected=True, latency_s=0.04)
        clock.advance(10)
        await hub.links.report("discord", connected=False, latency_s=None)
        clock.advance(30)
        assert await seen(running, lost) == []  # down 30 s: not yet
        clock.advance(90)
        assert await seen(running, lost) == [
            ("discord", "The Discord gateway connection has been down for 2 min (since 12:05 UTC).")
        ]
        await hub.links.report("discord", connected=True, latency_s=0.05)
        assert await seen(running, lost) == []
        clock.advance(200)  # the process holding it stopped reporting: stale counts as down
        assert [s for s, _ in await seen(running, lost)] == ["discord"]
    finally:
        await running.close()


async def test_a_watched_link_is_reported_and_goes_down_on_unwatch(sqlite_url: str) -> None:
    clock = FakeClock()
    running = await start_hub({}, database_url=sqlite_url, clock=clock)
    try:
        hub = running.hub
        probed = asyncio.Event()

        async def probe() -> tuple[bool, float | None]:
            probed.set()
            return True, 0.042

        hub.links.watch("discord", probe)
        await probed.wait()
        await hub.links.unwatch("discord")  # waits for the report under way, then says down
        async with hub.sessions() as session:
            (state,) = await link_states(session, now=clock.now())
        assert (state.platform, state.connected, state.lost_since) == (
            "discord",
            False,
            clock.now(),
        )
    finally:
        await running.close()
