"""A team suspended for non-payment is refused in Discord with the reason (the 402 refusal of
the API, as one ephemeral sentence), nothing is asked of the model, and lifting the
suspension lets the next /ask through; /usage shows the plan and the invoice so far."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.connectors.discord.helpers import (
    Interactions,
    command,
    no_stop_button,
    original,
    usage_records,
    webhook_path,
)
from tests.fakes.discord_rest import FakeDiscordRest
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import RunningHub

TIMEOUT = 10
REFUSAL = (
    "Team 'acme' is suspended: its payment failed on 2026-10-30 and is still unpaid after 14 "
    "days. Update the payment method, or ask a hub admin to lift the suspension."
)


async def test_a_suspended_team_is_refused_with_the_reason_until_lifted(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    hub, team = running.hub, running.team
    await hub.billing.plans.create("Team", monthly_fee_micros=9_000_000)
    await hub.billing.subscribe(team, "Team", start=hub.clock.now().date())
    await hub.billing.accounts.update(team, stripe_customer_id="cus_discord")
    await hub.billing.accounts.apply_payment_event(
        event_id="evt_1",
        kind="payment_failed",
        customer_id="cus_discord",
        occurred_at=datetime(2026, 10, 30, 9, 0, tzinfo=UTC),  # the clock is at Nov 15 12:00
    )
    asked = command("ask", {"prompt": "what is 2+2?"})
    deferred = await interactions.post(asked)
    assert deferred.json() == {"type": 5}  # acked within 3 s, refused after
    followup = webhook_path(asked)
    async with asyncio.timeout(TIMEOUT):
        told = await rest.wait_for("POST", lambda c: c.path == followup)
    assert (told.json["content"], told.json["flags"]) == (REFUSAL, 64)
    assert fake_openai.requests == []
    assert await usage_records(hub) == []  # refused before admission: nothing was spent

    usage = await interactions.post(command("usage"))
    # Half of November on a $9 plan (16/30 days from Nov 15): $4.80 so far.
    assert usage.json()["data"]["content"].endswith(
        "Plan **Team**: invoice estimate so far $4.80 (the draft for 2026-11)."
    )

    await hub.billing.accounts.lift(team)
    fake_openai.script(reply("4"))
    again = command("ask", {"prompt": "what is 2+2?"})
    await interactions.post(again)
    is_original = original(again)
    async with asyncio.timeout(TIMEOUT):
        done = await rest.wait_for("PATCH", lambda c: is_original(c) and no_stop_button(c.json))
    assert done.json["content"] == "4"
