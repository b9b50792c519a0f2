"""A served hub with the dashboard, two teams with usage across days and timezones, and the
ledger's own answer to any question (straight from `usage_records`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from connectors.dashboard import plugin as dashboard
from connectors.openai_api import plugin as openai_api
from hub.clock import FakeClock
from hub.ledger.keys import IssuedKey
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_writer import record_usage
from hub.model import Caller, Origin, Usage
from hub.store.ledger_tables import Team, UsageRecord
from tests.support.hubs import RunningHub, start_hub

OPERATOR_KEY = "operator-key-for-dashboard-tests-0123456789"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# (team, hours before NOW, alias, connector, workspace, channel, prompt, completion, cost, status)
SEED = [
    (0, 1, "gpt-4o", "slack", "T1", "C1", 1200, 300, 4_150, "ok"),
    (0, 5, "gpt-4o-mini", "slack", "T1", "C2", 800, 90, 215, "ok"),
    (0, 19, "gpt-4o", "discord", "G1", "D1", 2000, 10, 5_100, "error"),
    (0, 30, "claude", "openai_api", None, None, 50, 5000, 75_003, "ok"),
    (0, 29 * 24, "gpt-4o", "openai_api", None, None, 10, 10, 999, "ok"),  # October 22nd
    (0, 20 * 24 - 12, "claude", "openai_api", None, None, 10, 10, 7, "ok"),  # Oct 31, 24:00 UTC
    (1, 2, "gpt-4o", "openai_api", None, None, 999, 999, 123_456, "ok"),  # the other team
]


@dataclass
class DashboardHub:
    running: RunningHub
    admin: IssuedKey
    viewer: IssuedKey
    member: IssuedKey
    other: IssuedKey  # globex's admin key
    other_team: Team

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return self.running.client(follow_redirects=False, **kwargs)

    @asynccontextmanager
    async def signed_in(self, key: str) -> AsyncIterator[httpx.AsyncClient]:
        async with self.client() as client:
            response = await client.post("/login", data={"key": key})
            assert response.status_code == 303, response.text
            yield client

    async def records(self) -> list[UsageRecord]:
        async with self.running.hub.sessions() as session:
            return list((await session.scalars(select(UsageRecord))).all())

    async def ledger(
        self, since: datetime, until: datetime, key: Callable[[UsageRecord], Any], team_id: int
    ) -> dict[Any, dict[str, int]]:
        """The ledger's answer: SUM over usage_records in [since, until), grouped by `key`."""
        found: dict[Any, dict[str, int]] = {}
        for r in await self.records():
            if r.team_id != team_id or not since <= r.created_at < until:
                continue
            sums = found.setdefault(key(r), {"requests": 0, "prompt_tokens": 0,
                                             "completion_tokens": 0, "cost_micros": 0})  # fmt: skip
            sums["requests"] += 1
            sums["prompt_tokens"] += r.prompt_tokens
            sums["completion_tokens"] += r.completion_tokens
            sums["cost_micros"] += r.cost_micros
        return found


@asynccontextmanager
async def dashboard_hub(database_url: str, **config: Any) -> AsyncIterator[DashboardHub]:
    config.setdefault("security", {})["operator_key"] = OPERATOR_KEY
    from tests.support.hubs import SECRET_KEY

    config["security"]["secret_key"] = SECRET_KEY
    running = await start_hub(config, database_url=database_url, clock=FakeClock(NOW))
    hub = running.hub
    admin = await hub.keys.create(running.team, name="admin", role="admin")
    viewer = await hub.keys.create(running.team, name="viewer", role="viewer")
    other_team = await hub.teams.create("globex")
    other = await hub.keys.create(other_team, name="admin", role="admin")
    teams = [running.team, other_team]
    async with hub.sessions.begin() as session:
        for n, (team, hours, alias, connector, ws, channel, p, c, cost, status) in enumerate(SEED):
            entry = UsageEntry(
                request_id=f"seed-{n}",
                caller=Caller(teams[team].id, teams[team].name,
                              key_id=admin.id if team == 0 else other.id),
                origin=Origin(connector, user=f"U{n % 2}", channel=channel, workspace=ws),
                alias=alias, deployment=f"prov/{alias}",
                usage=Usage(prompt_tokens=p, completion_tokens=c), cost_micros=cost,
                latency_ms=100 * (n + 1), ttft_ms=20 * (n + 1), status=status,
            )  # fmt: skip
            await record_usage(session, entry, now=NOW - timedelta(hours=hours))
    await running.serve(plugins=[dashboard, openai_api])
    try:
        yield DashboardHub(running, admin, viewer, running.key, other, other_team)
    finally:
        await running.close()
