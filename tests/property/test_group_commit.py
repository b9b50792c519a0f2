"""The ledger writer's group commit as properties (#14.1), on SQLite and PostgreSQL.

Random reservations, settlements, replayed settlements (the same hold twice in one batch),
settlements that fail (a record naming a team that does not exist, so its INSERT violates
a foreign key) and unrelated failing jobs, all submitted in the same event-loop iteration so
they share batches:

- each batch is one transaction: far fewer transactions than jobs;
- spend and holds never pass the budget; a refused reservation holds nothing;
- a failing job fails alone: every other request's record is written exactly once, and the
  failed settlement's hold is still there, to be settled later (once);
- in the end: one usage record per admitted request, nothing held, the counters and the
  rollups equal the sum of the records.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from hub.errors import QuotaExceeded
from hub.ledger.budget import Hold, Settlement
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.writer import Tx
from hub.model import Caller, Origin, Usage
from hub.store.ledger_tables import BudgetCounter, Reservation, UsageRecord
from hub.store.rollup_tables import UsageRollup
from tests.support.hubs import RunningHub

pytestmark = pytest.mark.timeout(240)
MISSING_TEAM = 987_654_321


@dataclass(frozen=True)
class Job:
    cost: int  # held
    tokens: int
    spent_percent: int  # of the hold, booked at settle
    replayed: bool  # settled twice, concurrently
    fails: bool  # its first settle names a team that does not exist


jobs = st.builds(
    Job,
    cost=st.integers(0, 50_000),
    tokens=st.integers(0, 500),
    spent_percent=st.integers(0, 100),
    replayed=st.booleans(),
    fails=st.booleans(),
)


counter = itertools.count()


def entry(caller: Caller, request_id: str, job: Job, *, team_id: int | None = None) -> UsageEntry:
    cost = job.cost * job.spent_percent // 100
    tokens = job.tokens * job.spent_percent // 100
    payer = caller if team_id is None else dataclasses.replace(caller, team_id=team_id)
    return UsageEntry(
        request_id=request_id,
        caller=payer,
        origin=Origin(connector="property", user="u"),
        alias="gpt",
        deployment="up/m",
        usage=Usage(prompt_tokens=tokens // 2, completion_tokens=tokens - tokens // 2),
        cost_micros=cost,
        latency_ms=5,
        ttft_ms=None,
        status="ok",
    )


def poison(tx: Tx) -> None:
    tx.conn.execute(text("INSERT INTO usage_records (request_id) VALUES (NULL)"))


async def failing_jobs(running: RunningHub, count: int) -> list[BaseException | None]:
    results = await asyncio.gather(
        *(running.hub.budget.writer.run(poison) for _ in range(count)), return_exceptions=True
    )
    return [r if isinstance(r, BaseException) else None for r in results]


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=st.lists(jobs, min_size=1, max_size=40),
    budget=st.none() | st.integers(0, 1_000_000),
    poisons=st.integers(0, 3),
)
async def test_a_batch_books_every_request_once_and_a_failure_alone(
    running: RunningHub, batch: list[Job], budget: int | None, poisons: int
) -> None:
    hub = running.hub
    writer = hub.budget.writer
    team = await hub.teams.create(f"gc-{next(counter)}", monthly_budget_micros=budget)
    caller = Caller(team_id=team.id, team_name=team.name)
    await hub.budget.quotas.of(caller)  # cached: every reserve below submits at once
    request_ids = [f"gc-{team.id}-{i}" for i in range(len(batch))]

    # Reservations, with unrelated failing jobs in the same batches.
    before = writer.batches
    reserved = await asyncio.gather(
        *(hub.budget.reserve(caller, cost_micros=j.cost, tokens=j.tokens) for j in batch),
        failing_jobs(running, poisons),
        return_exceptions=True,
    )
    *holds_or_refusals, poisoned = reserved
    assert isinstance(poisoned, list) and all(p is not None for p in poisoned)
    assert writer.batches - before <= 2  # one batch, give or take a straggler
    holds: dict[int, Hold] = {}
    for index, outcome in enumerate(holds_or_refusals):
        if isinstance(outcome, QuotaExceeded):
            continue
        assert isinstance(outcome, Hold), outcome
        holds[index] = outcome
    held_cost = sum(h.cost_micros for h in holds.values())
    if budget is not None:
        assert held_cost <= budget
    assert await count(hub, Reservation, team.id) == len(holds)

    # Settlements: replays twice at once, failing ones with a team that does not exist.
    settles = []
    for index, hold in holds.items():
        job = batch[index]
        wrong = MISSING_TEAM if job.fails else None
        settles.append(
            hub.budget.settle(hold, entry(caller, request_ids[index], job, team_id=wrong))
        )
        if job.replayed and not job.fails:
            settles.append(hub.budget.settle(hold, entry(caller, request_ids[index], job)))
    settled = await asyncio.gather(*settles, failing_jobs(running, poisons), return_exceptions=True)
    *outcomes, _ = settled
    failed = {i for i, h in holds.items() if batch[i].fails}
    assert sum(isinstance(o, Exception) for o in outcomes) == len(failed)
    assert await count(hub, UsageRecord, team.id) == len(holds) - len(failed)
    assert await count(hub, Reservation, team.id) == len(failed)  # still held, not lost

    # The failed ones settle properly later: once.
    usage_ids = await asyncio.gather(
        *(hub.budget.settle(holds[i], entry(caller, request_ids[i], batch[i])) for i in failed)
    )
    assert all(isinstance(s, Settlement) for s in usage_ids)

    records = await rows(hub, team.id)
    assert sorted(r.request_id for r in records) == sorted(request_ids[i] for i in holds)
    assert await count(hub, Reservation, team.id) == 0
    spent = (
        sum(r.cost_micros for r in records),
        sum(r.prompt_tokens + r.completion_tokens for r in records),
    )
    await hub.folder.fold()  # the staged facts in the table read below
    async with hub.sessions() as session:
        counters = list(
            await session.scalars(
                select(BudgetCounter).where(
                    BudgetCounter.scope == "team", BudgetCounter.scope_id == team.id
                )
            )
        )
        rolled = (
            await session.execute(
                select(func.sum(UsageRollup.requests), func.sum(UsageRollup.cost_micros)).where(
                    UsageRollup.team_id == team.id,
                    UsageRollup.cube == "all",
                    UsageRollup.grain == "day",
                )
            )
        ).one()
    if holds:
        (month,) = counters
        assert (month.cost_reserved_micros, month.tokens_reserved) == (0, 0)
        assert (month.cost_spent_micros, month.tokens_spent) == spent
        assert (int(rolled[0]), int(rolled[1])) == (len(records), spent[0])
    if budget is not None:
        assert spent[0] <= budget


async def count(hub: object, model: type[Reservation] | type[UsageRecord], team_id: int) -> int:
    async with hub.sessions() as session:  # type: ignore[attr-defined]
        found = await session.scalar(select(func.count(model.id)).where(model.team_id == team_id))
    return int(found or 0)


async def rows(hub: object, team_id: int) -> list[UsageRecord]:
    async with hub.sessions() as session:  # type: ignore[attr-defined]
        return list(
            await session.scalars(select(UsageRecord).where(UsageRecord.team_id == team_id))
        )
