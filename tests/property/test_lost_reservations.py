"""Reservations a database crash lost, as a property (#14), on SQLite and PostgreSQL.

With `postgres_synchronous_commit = "off"` a server crash loses the last commits, and what
it recovers is a prefix of them: here random reservations of random teams commit, then a
run of them is lost whole (the database put back to what it was before them: their rows
and counters gone, the sequences set back), then more reservations take the ids again.
Every request then settles, in a random order and in random groups that share batches:

- every request has exactly one usage record, and nothing is held;
- each team's counter equals the sum of its own records (nothing booked on another team's
  counter, nothing released twice), with nothing reserved.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text, update

from hub.ledger.budget import Hold
from hub.ledger.recovery import HoldContext
from hub.ledger.usage_entry import UsageEntry
from hub.model import Caller, Origin, Usage
from hub.service import Hub
from hub.store.ledger_tables import BudgetCounter, Reservation, UsageRecord
from tests.support.hubs import RunningHub

pytestmark = pytest.mark.timeout(240)
TEAMS = 3


@dataclass(frozen=True)
class Job:
    team: int  # which of the example's teams
    cost: int
    tokens: int
    spent_percent: int
    with_context: bool


jobs = st.builds(
    Job,
    team=st.integers(0, TEAMS - 1),
    cost=st.integers(0, 50_000),
    tokens=st.integers(0, 500),
    spent_percent=st.integers(0, 100),
    with_context=st.booleans(),
)


examples = itertools.count()


async def snapshot(hub: Hub) -> dict[str, Any]:
    """What the crash will put back: the counters' rows and the sequences."""
    async with hub.engine.connect() as conn:
        counters = (await conn.execute(select(BudgetCounter.__table__))).all()
        sequences = {}
        if conn.dialect.name == "postgresql":
            for table in ("reservations", "budget_counters"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                sequences[sequence] = await conn.scalar(text(f"SELECT nextval({sequence})"))
    return {"counters": counters, "sequences": sequences}


async def crash(hub: Hub, before: dict[str, Any], lost: list[Hold]) -> None:
    """The lost reservations' commits undone, as a recovered database is without them."""
    counters = BudgetCounter.__table__.c
    async with hub.engine.begin() as conn:
        await conn.execute(delete(Reservation).where(Reservation.id.in_([h.id for h in lost])))
        kept = [row.id for row in before["counters"]]
        await conn.execute(delete(BudgetCounter).where(BudgetCounter.id.not_in(kept)))
        for row in before["counters"]:
            await conn.execute(
                update(BudgetCounter)
                .where(counters.id == row.id)
                .values(
                    cost_reserved_micros=row.cost_reserved_micros,
                    tokens_reserved=row.tokens_reserved,
                    cost_spent_micros=row.cost_spent_micros,
                    tokens_spent=row.tokens_spent,
                )
            )
        for sequence, value in before["sequences"].items():
            await conn.execute(text(f"SELECT setval({sequence}, :v, false)"), {"v": value})


def usage_entry(caller: Caller, request_id: str, job: Job) -> UsageEntry:
    cost = job.cost * job.spent_percent // 100
    tokens = job.tokens * job.spent_percent // 100
    return UsageEntry(
        request_id=request_id,
        caller=caller,
        origin=Origin(connector="property", user="u"),
        alias="gpt",
        deployment="up/m",
        usage=Usage(prompt_tokens=tokens // 2, completion_tokens=tokens - tokens // 2),
        cost_micros=cost,
        latency_ms=5,
        ttft_ms=None,
        status="ok",
    )


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kept=st.lists(jobs, max_size=6),
    lost=st.lists(jobs, min_size=1, max_size=6),
    after=st.lists(jobs, min_size=1, max_size=6),
    order=st.randoms(use_true_random=False),
    groups=st.lists(st.integers(1, 4), min_size=18, max_size=18),
)
async def test_settles_after_lost_reservations_book_each_team_once(
    running: RunningHub,
    kept: list[Job],
    lost: list[Job],
    after: list[Job],
    order: Any,
    groups: list[int],
) -> None:
    hub = running.hub
    example = next(examples)
    callers = []
    for n in range(TEAMS):
        team = await hub.teams.create(f"lost-{example}-{n}")
        caller = Caller(team_id=team.id, team_name=team.name)
        await hub.budget.quotas.of(caller)
        callers.append(caller)

    async def reserve(jobs: list[Job], phase: str) -> list[tuple[Hold, UsageEntry]]:
        taken = []
        for index, job in enumerate(jobs):
            caller, request_id = callers[job.team], f"lost-{example}-{phase}{index}"
            context = HoldContext(request_id, caller, Origin(connector="property"), "gpt", 1)
            hold = await hub.budget.reserve(
                caller,
                cost_micros=job.cost,
                tokens=job.tokens,
                context=context if job.with_context else None,
            )
            taken.append((hold, usage_entry(caller, request_id, job)))
        return taken

    requests = await reserve(kept, "k")
    before = await snapshot(hub)
    gone = await reserve(lost, "l")
    await crash(hub, before, [hold for hold, _ in gone])
    requests += gone + await reserve(after, "a")
    order.shuffle(requests)

    start = 0
    for size in groups:
        group = requests[start : start + size]
        start += size
        await asyncio.gather(*(hub.budget.settle(hold, entry) for hold, entry in group))
    assert start >= len(requests)

    team_ids = [c.team_id for c in callers]
    async with hub.sessions() as session:
        records = list(
            await session.scalars(select(UsageRecord).where(UsageRecord.team_id.in_(team_ids)))
        )
        held = await session.scalar(
            select(func.count()).select_from(Reservation).where(Reservation.team_id.in_(team_ids))
        )
        counters = list(
            await session.scalars(
                select(BudgetCounter).where(
                    BudgetCounter.scope == "team", BudgetCounter.scope_id.in_(team_ids)
                )
            )
        )
    assert sorted(r.request_id for r in records) == sorted(e.request_id for _, e in requests)
    assert held == 0
    by_team = {c.scope_id: c for c in counters}
    for team_id in team_ids:
        mine = [r for r in records if r.team_id == team_id]
        counter = by_team.get(team_id)
        if counter is None:
            assert not mine
            continue
        assert (counter.cost_reserved_micros, counter.tokens_reserved) == (0, 0)
        assert (counter.cost_spent_micros, counter.tokens_spent) == (
            sum(r.cost_micros for r in mine),
            sum(r.prompt_tokens + r.completion_tokens for r in mine),
        )
