"""A team suspended for non-payment is told why in Slack, in one sentence, and nothing is
asked of the model; `/ask usage` shows the plan and the invoice so far."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.connectors.slack.conftest import HarnessFactory, hub_config
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack


async def test_suspended_team_is_refused_with_the_reason(
    slack_hub: HarnessFactory, fake_openai: FakeOpenAI, fake_slack: FakeSlack
) -> None:
    config = hub_config(fake_openai, fake_slack) | {"billing": {"suspend_after_days": 2}}
    async with slack_hub(config=config) as h:
        hub = h.running.hub
        await hub.billing.plans.create("Team", monthly_fee_micros=9_000_000)
        await hub.billing.subscribe(h.running.team, "Team", start=hub.clock.now().date())
        await hub.billing.accounts.update(h.running.team, stripe_customer_id="cus_slack")
        failed_at = datetime(2026, 11, 12, 8, 0, tzinfo=UTC)  # the clock is at Nov 15 12:00
        await hub.billing.accounts.apply_payment_event(
            event_id="evt_1", kind="payment_failed", customer_id="cus_slack", occurred_at=failed_at
        )
        await h.command("what is 2+2?")
        told = await h.slack.wait_for("response_url")
        await h.connector.drain()
        assert h.llm.requests == []
        assert told.args["text"] == (
            "Team 'acme' is suspended: its payment failed on 2026-11-12 and is still unpaid "
            "after 2 days. Update the payment method, or ask a hub admin to lift the suspension."
        )
        usage = await h.command("usage")
        # Half of November on a $9 plan (16/30 days from Nov 15): $4.80 so far.
        assert usage.json()["text"].endswith(
            "Plan *Team*: invoice estimate so far $4.80 (the draft for 2026-11)"
        )
        assert hub.clock.now() - failed_at > timedelta(days=2)
