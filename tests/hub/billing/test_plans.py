"""Plans and subscriptions: spans of a month per plan, and a plan's default monthly budget
that never overrides a team's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import pytest

from hub.clock import FakeClock
from hub.errors import BadRequest, NotFound
from tests.hub.billing.support import MARCH_1, three_models
from tests.support.hubs import RunningHub, start_hub


@pytest.fixture
async def running(sqlite_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub(three_models(), database_url=sqlite_url, clock=FakeClock(MARCH_1))
    try:
        yield hub
    finally:
        await hub.close()


async def test_spans_follow_plan_changes_and_gaps(running: RunningHub) -> None:
    plans, team = running.hub.billing.plans, running.team
    await plans.create("A")
    await plans.create("B", markup_percent=Decimal("12.5"), model_markups={"gpt": Decimal(0)})
    await plans.subscribe(team, "A", start=date(2026, 3, 5))
    await plans.subscribe(team, "B", start=date(2026, 3, 20))
    await plans.subscribe(team, "A", start=date(2026, 3, 20))  # replaces B before it began
    await plans.subscribe(team, "B", start=date(2026, 3, 25))
    spans = await plans.spans(team.id, first=date(2026, 3, 1), last=date(2026, 3, 31))
    assert [(s.plan.name if s.plan else None, s.first.day, s.last.day, s.days) for s in spans] == [
        (None, 1, 4, 4),
        ("A", 5, 24, 20),
        ("B", 25, 31, 7),
    ]
    b = spans[2].plan
    assert b is not None and (b.markup_for("gpt"), b.markup_for("claude")) == (0, Decimal("12.5"))
    with pytest.raises(BadRequest):
        await plans.create("A")
    with pytest.raises(NotFound):
        await plans.subscribe(team, "missing", start=date(2026, 3, 6))


async def test_a_plan_budget_is_the_default_for_teams_without_one(running: RunningHub) -> None:
    hub = running.hub
    await hub.billing.plans.create("Capped", monthly_budget_micros=50_000_000)
    own = await hub.teams.create("own-budget", monthly_budget_micros=7_000_000)
    await hub.billing.subscribe(running.team, "Capped", start=date(2026, 3, 1))
    await hub.billing.subscribe(own, "Capped", start=date(2026, 3, 1))

    async def monthly(team_id: int) -> int | None:
        (quota,) = [q for q in await hub.teams.quotas_for("team", team_id) if q.window == "month"]
        return quota.cost_limit_micros

    assert (await monthly(running.team.id), await monthly(own.id)) == (50_000_000, 7_000_000)
