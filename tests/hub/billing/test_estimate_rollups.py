"""Slack's and Discord's `/usage` invoice estimate comes from the hourly rollups
(hub/billing/rollup_counts.py): for random usage (models priced by the config and by the
catalog, a catalog price change that takes effect mid-hour, plans changing mid-month) it is
the invoice the records would give, line for line, and the same total as per record."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.billing.invoices import period_of
from hub.clock import FakeClock
from tests.hub.billing.support import MARCH_1, at, record, three_models
from tests.support.hubs import RunningHub, start_hub

# gpt-4o's catalog price changes at 10:30 on March 15: records of that hour are priced per
# record, the others per rollup row.
CHANGE = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)
NOW = datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
_teams = itertools.count(1)


@pytest.fixture
async def running(sqlite_url: str, tmp_path: Path) -> AsyncIterator[RunningHub]:
    running = await start_hub(three_models(), database_url=sqlite_url, clock=FakeClock(MARCH_1))
    try:
        await running.hub.prices.ready()  # the shipped snapshot first, as at start-up
        prices = tmp_path / "prices.json"
        prices.write_text(
            json.dumps({"gpt-4o": {"input_cost_per_token": 3e-06, "output_cost_per_token": 9e-06}})
        )
        await running.hub.billing.catalog.import_file(prices, effective_from=CHANGE)
        await running.hub.billing.plans.create("Starter", monthly_fee_micros=10_000_000)
        await running.hub.billing.plans.create(
            "Pro",
            monthly_fee_micros=31_000_000,
            included_micros=2_000_000,
            markup_percent=Decimal(20),
            model_markups={"claude": Decimal(10)},
        )
        at(running, NOW)
        yield running
    finally:
        await running.close()


@st.composite
def usage(draw: st.DrawFn) -> dict[str, object]:
    prompt = draw(st.integers(0, 200_000))
    completion = draw(st.integers(0, 50_000))
    cached = draw(st.integers(0, prompt))
    return {
        # Around the change most of the time, anywhere in the month otherwise.
        "at": draw(
            st.one_of(
                st.datetimes(
                    CHANGE.replace(tzinfo=None) - timedelta(hours=2),
                    CHANGE.replace(tzinfo=None) + timedelta(hours=2),
                ),
                st.datetimes(MARCH_1.replace(tzinfo=None), NOW.replace(tzinfo=None)),
            ).map(lambda moment: moment.replace(tzinfo=UTC))
        ),  # fmt: skip
        "alias": draw(st.sampled_from(["gpt", "mini", "claude"])),
        "prompt_tokens": prompt,
        "cached_tokens": cached,
        "cache_write_tokens": draw(st.integers(0, prompt - cached)),
        "completion_tokens": completion,
        "reasoning_tokens": draw(st.integers(0, completion)),
    }


plans = st.lists(st.tuples(st.sampled_from(["Starter", "Pro"]), st.integers(1, 31)), max_size=2)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=st.lists(usage(), max_size=25), subscriptions=plans)
async def test_the_rollup_estimate_is_the_per_record_invoice(
    running: RunningHub,
    records: list[dict[str, object]],
    subscriptions: list[tuple[str, int]],
) -> None:
    hub = running.hub
    team = await hub.teams.create(f"estimate-{next(_teams)}")
    for plan, day in sorted(subscriptions, key=lambda s: s[1]):
        await hub.billing.subscribe(team, plan, start=date(2026, 3, day))
    for values in records:
        moment = values.pop("at")
        assert isinstance(moment, datetime)
        await record(running, at=moment, team_id=team.id, **values)  # type: ignore[arg-type]
    per_record = await hub.billing.invoices.figures(team.id, period_of(NOW), until=NOW)
    from_rollups = await hub.billing.invoices.figures(
        team.id, period_of(NOW), until=NOW, from_rollups=True
    )
    assert from_rollups == per_record
    _, estimate = await hub.billing.plan_and_estimate(team.id)
    assert estimate == per_record.total_micros
    if records:
        assert per_record.total_micros > 0 or all(
            r["prompt_tokens"] == r["completion_tokens"] == 0 for r in records
        )
