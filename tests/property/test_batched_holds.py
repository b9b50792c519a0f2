"""Reservations written together decide as if written one after the other (#14).

A batch's reservations share one transaction (hub/ledger/writer.py); on SQLite they are
decided against each counter read once (hub/ledger/reserve_sqlite.py), on PostgreSQL by one
upsert per request. Either way, two teams with the same quotas and the same counters'
history, given the same requests, one in one batch and the other one request at a time,
must admit and refuse the same requests, refuse each with the same figures, and be left
with the same counters.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hub.errors import QuotaExceeded
from hub.ledger.budget import Hold
from hub.ledger.teams import QuotaSpec
from hub.model import Caller
from hub.store.ledger_tables import BudgetCounter
from tests.support.hubs import RunningHub

pytestmark = pytest.mark.timeout(240)
counter = itertools.count()
limits = st.none() | st.integers(0, 60_000)
requests = st.lists(st.tuples(st.integers(0, 20_000), st.integers(0, 300)), max_size=40)


async def caller_with(
    running: RunningHub, quotas: list[tuple[str, str, int | None, int | None]]
) -> Caller:
    """A new team and key with these (scope, window, cost, tokens) quotas."""
    hub = running.hub
    team = await hub.teams.create(f"bh-{next(counter)}")
    key = await hub.keys.create(team, name="k")
    for scope, window, cost, tokens in quotas:
        scope_id = team.id if scope == "team" else key.id
        spec = QuotaSpec(scope, scope_id, window, cost, tokens)
        await hub.teams.set_quota(spec, team_id=team.id)
    caller = Caller(team_id=team.id, team_name="same", key_id=key.id)
    await hub.budget.quotas.of(caller)  # cached: the batch's reserves submit at once
    return caller


def outcome(result: Hold | BaseException) -> tuple[object, ...]:
    if isinstance(result, QuotaExceeded):
        return ("refused", str(result))
    assert isinstance(result, Hold), result
    return ("held", result.cost_micros, result.tokens, len(result.counter_ids))


async def counters(running: RunningHub, caller: Caller) -> list[tuple[object, ...]]:
    async with running.hub.sessions() as session:
        found = await session.scalars(
            select(BudgetCounter).where(
                ((BudgetCounter.scope == "team") & (BudgetCounter.scope_id == caller.team_id))
                | ((BudgetCounter.scope == "key") & (BudgetCounter.scope_id == caller.key_id))
            )
        )
        return sorted(
            (
                c.scope,
                c.window,
                c.cost_reserved_micros,
                c.tokens_reserved,
                c.cost_spent_micros,
                c.tokens_spent,
            )
            for c in found
        )


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    team_month=st.tuples(limits, limits),
    key_day=st.none() | st.tuples(limits, limits),
    earlier=requests,
    batch=requests,
)
async def test_a_batch_of_reservations_decides_as_one_at_a_time(
    running: RunningHub,
    team_month: tuple[int | None, int | None],
    key_day: tuple[int | None, int | None] | None,
    earlier: list[tuple[int, int]],
    batch: list[tuple[int, int]],
) -> None:
    quotas = [("team", "month", *team_month)]
    if key_day is not None:
        quotas.append(("key", "day", *key_day))
    budget = running.hub.budget
    together, alone = await caller_with(running, quotas), await caller_with(running, quotas)

    async def reserve(caller: Caller, cost: int, tokens: int) -> Hold | BaseException:
        try:
            return await budget.reserve(caller, cost_micros=cost, tokens=tokens)
        except QuotaExceeded as refused:
            return refused

    # The same history on both teams' counters (holds left in place), one at a time.
    for caller in (together, alone):
        for cost, tokens in earlier:
            await reserve(caller, cost, tokens)
    assert await counters(running, together) == await counters(running, alone)

    batches = budget.writer.batches
    at_once = await asyncio.gather(*(reserve(together, c, t) for c, t in batch))
    assert budget.writer.batches - batches <= 2  # one batch, give or take a straggler
    one_by_one = [await reserve(alone, c, t) for c, t in batch]

    assert [outcome(r) for r in at_once] == [outcome(r) for r in one_by_one]
    assert await counters(running, together) == await counters(running, alone)
