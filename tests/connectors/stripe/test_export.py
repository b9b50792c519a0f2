"""Usage export to Stripe under faults: 500, 429 with Retry-After, a timeout, an accepted event
whose connection is cut, and a worker killed while Stripe holds its answer. Workers are
built and torn down in-process between tries (a fresh Hub: engine, HTTP and SDK clients);
the queue lives in the database, so nothing is lost and nothing is counted twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hub.billing.exports import identifier
from hub.billing.token_prices import split_counts
from hub.clock import FakeClock
from hub.events.schedule import LEASE
from hub.service import Hub
from hub.store.billing_tables import UsageExport
from tests.connectors.stripe.support import stripe_config, worker_run
from tests.fakes.stripe_api import FakeStripe
from tests.hub.billing.support import MARCH_1, march, record
from tests.support.hubs import start_hub
from tests.support.records import usage_rows


async def test_every_record_is_accepted_exactly_once_and_reconciles_to_zero(
    sqlite_url: str,
) -> None:
    async with FakeStripe(hold_s=3.0) as fake:
        running = await start_hub(
            stripe_config(fake), database_url=sqlite_url, clock=FakeClock(MARCH_1)
        )
        hub, clock = running.hub, running.clock
        assert isinstance(clock, FakeClock)
        await hub.billing.plans.create("Pro", monthly_fee_micros=20_000_000)
        _, customer = await hub.billing.subscribe(running.team, "Pro", start=march(1).date())
        assert customer == "cus_fake000001"  # created on subscribe, through the real SDK
        assert fake.state.customers[customer]["metadata"] == {
            "hub_team_id": str(running.team.id),
            "hub_team": "acme",
        }
        # Subscribing again maps to the same customer, never a second one.
        await hub.billing.subscribe(running.team, "Pro", start=march(2).date())
        assert list(fake.state.customers) == [customer]
        globex = await hub.teams.create("globex")
        await hub.billing.accounts.update(globex, stripe_customer_id="cus_mapped_by_hand")

        await record(running, at=march(2), alias="gpt", prompt_tokens=1_000, cached_tokens=400,
                     completion_tokens=300, reasoning_tokens=100)  # fmt: skip
        await record(running, at=march(3), alias="claude", prompt_tokens=2_000,
                     cached_tokens=500, cache_write_tokens=700, completion_tokens=50)  # fmt: skip
        await record(running, at=march(4), alias="mini", prompt_tokens=900, completion_tokens=90)
        await record(running, at=march(4), alias="gpt", team_id=globex.id, prompt_tokens=10,
                     completion_tokens=5)  # fmt: skip
        expected = {
            identifier(row.request_id, kind)
            for row in await usage_rows(hub)
            for kind, n in split_counts(
                prompt=row.prompt_tokens,
                completion=row.completion_tokens,
                cached=row.cached_tokens,
                cache_write=row.cache_write_tokens,
                reasoning=row.reasoning_tokens,
            ).items()  # fmt: skip
            if n
        }
        assert len(expected) == 4 + 4 + 2 + 2
        settings = hub.settings
        await running.close()  # the web process is gone; only workers from here on
        clock.advance((march(5) - clock.now()).total_seconds())

        # Try 1: a worker that is killed while Stripe holds the answer to an accepted event.
        fake.fault("accept_hold")
        killed = asyncio.create_task(worker_run(settings, clock))
        await asyncio.wait_for(fake.holding.wait(), timeout=10)
        killed.cancel()
        await asyncio.gather(killed, return_exceptions=True)
        held = set(fake.accepted)  # what Stripe took before the worker died (one held)
        assert held and held <= expected

        # Try 2, a new worker once the dead one's claims have expired: four faults, and the
        # held event's resend answered from Stripe's idempotency store.
        clock.advance(LEASE.total_seconds() + 1)
        fake.fault("500")
        fake.fault("429", retry_after=900)
        fake.fault("timeout")
        fake.fault("drop")
        second = await worker_run(settings, clock)
        assert second.retried == 4 and second.failed == 0
        fake.forget_idempotency()  # a day later: the resend meets the identifier, not the key

        for _ in range(6):  # later workers, each after the longest wait asked for
            clock.advance(max(LEASE, timedelta(minutes=16)).total_seconds())
            report = await worker_run(settings, clock)
            if report.attempted == 0:
                break
        assert fake.accepted == {ident: 1 for ident in expected}  # exactly once each
        assert fake.state.duplicates >= 1  # the cut connection's resend: 400, counted delivered

        hub2 = Hub.open(settings, clock=clock)
        try:
            async with hub2.sessions() as session:
                rows = list(await session.scalars(select(UsageExport)))
            assert {r.status for r in rows} == {"delivered"} and len(rows) == len(expected)
            assert any(r.duplicate for r in rows)
            waits = [r for r in rows if r.attempts > 1]
            assert waits  # the faults were retried, not dropped
            reconciled = [r.as_json() for r in await hub2.billing.reconcile("2026-03")]
            assert [(r["team"], r["difference_usd"]) for r in reconciled] == [
                ("acme", 0.0),
                ("globex", 0.0),
            ]
            assert all(r["ledger_usd"] > 0 and r["pending_events"] == 0 for r in reconciled)
        finally:
            await hub2.close()

        sample = next(e for e in fake.state.events if e["payload"]["token_type"] == "cached_input")
        assert sample["event_name"] == "llm_tokens"
        assert set(sample["payload"]) == {"stripe_customer_id", "value", "token_type", "model"}
        assert sample["payload"]["value"].isdigit() and sample["payload"]["model"] in (
            "gpt",
            "claude",
        )
        assert sample["timestamp"] in {
            int(march(d).timestamp()) for d in (2, 3)
        }  # when the tokens were used, not when they were sent
        assert datetime.fromtimestamp(sample["timestamp"], UTC) < march(5)
