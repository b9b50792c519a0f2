"""Stripe's payment webhooks, signed as Stripe signs them: valid, bad signature, stale, and
replayed; a failed payment suspends the team after the grace days (refused in the OpenAI API
with a sentence that says why) until it pays or an admin lifts it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import openai
import pytest
from sqlalchemy import func, select

from connectors.openai_api import plugin as openai_api
from connectors.stripe import plugin as stripe_plugin
from hub.clock import FakeClock
from hub.store.billing_tables import PaymentEvent
from tests.connectors.stripe.support import WEBHOOK_SECRET, stripe_config
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.fakes.stripe_api import FakeStripe
from tests.hub.billing.support import MARCH_1, at, march
from tests.support.hubs import RunningHub, start_hub

CUSTOMER = "cus_acme_by_hand"


@pytest.fixture
async def served(sqlite_url: str, fake_openai: FakeOpenAI) -> AsyncIterator[RunningHub]:
    async with FakeStripe() as fake:
        running = await start_hub(
            stripe_config(fake, openai_url=fake_openai.base_url),
            database_url=sqlite_url,
            clock=FakeClock(MARCH_1),
        )
        await running.hub.billing.accounts.update(running.team, stripe_customer_id=CUSTOMER)
        await running.serve(plugins=[openai_api, stripe_plugin])
        try:
            yield running
        finally:
            await running.close()


async def post(running: RunningHub, event: dict[str, object], *, secret: str = WEBHOOK_SECRET,
               age_s: int = 0) -> tuple[int, dict[str, object]]:  # fmt: skip
    stamp = int(running.clock.now().timestamp()) - age_s
    response = await FakeStripe.post_webhook(
        f"{running.base_url}/billing/stripe/webhook", event, secret=secret, timestamp=stamp
    )
    return response.status_code, response.json()


async def payment_events(running: RunningHub) -> int:
    async with running.hub.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(PaymentEvent)) or 0)


async def ask(running: RunningHub, fake_openai: FakeOpenAI) -> str:
    fake_openai.script(reply("fine", prompt_tokens=5, completion_tokens=1))
    client = openai.AsyncOpenAI(
        base_url=f"{running.base_url}/v1", api_key=running.key.key, max_retries=0
    )
    try:
        answer = await client.chat.completions.create(
            model="gpt", messages=[{"role": "user", "content": "hi"}]
        )
    finally:
        await client.close()
    return answer.choices[0].message.content or ""


def now_s(running: RunningHub) -> int:
    return int(running.clock.now().timestamp())


async def test_signed_events_move_the_status_and_failed_payment_suspends_after_grace(
    served: RunningHub, fake_openai: FakeOpenAI
) -> None:
    running = served
    at(running, march(2, 9))
    failed = FakeStripe.event(
        "invoice.payment_failed",
        {"id": "in_1", "object": "invoice", "customer": CUSTOMER, "status": "open"},
        created=now_s(running),
    )
    # Wrong secret, then a signature five minutes and a second old: refused, nothing stored.
    assert (await post(running, failed, secret="whsec_wrong"))[0] == 400
    status, body = await post(running, failed, age_s=301)
    assert status == 400 and "five-minute window" in str(body)
    assert await payment_events(running) == 0
    assert (await running.hub.billing.accounts.get(running.team.id)).status == "active"

    assert await post(running, failed) == (200, {"received": True, "result": "applied"})
    assert await post(running, failed) == (200, {"received": True, "result": "replayed"})
    assert await payment_events(running) == 1
    account = await running.hub.billing.accounts.get(running.team.id)
    assert (account.status, account.payment_failed_at) == ("past_due", march(2, 9))

    at(running, march(5, 8))  # 2 days 23 hours later: still within the 3 grace days
    assert await ask(running, fake_openai) == "fine"
    at(running, march(5, 9) + timedelta(seconds=1))
    with pytest.raises(openai.APIStatusError) as refused:
        await ask(running, fake_openai)
    assert refused.value.status_code == 402
    assert refused.value.body == {
        "message": "Team 'acme' is suspended: its payment failed on 2026-03-02 and is still "
        "unpaid after 3 days. Update the payment method, or ask a hub admin to lift the "
        "suspension.",
        "type": "api_error",
        "param": None,
        "code": "billing_suspended",
    }

    await running.hub.billing.accounts.lift(running.team)  # an admin lets them in
    assert await ask(running, fake_openai) == "fine"

    # A new failure starts a new grace period; paying ends it; an older event changes nothing.
    again = FakeStripe.event(
        "invoice.payment_failed", {"id": "in_2", "customer": CUSTOMER}, created=now_s(running)
    )
    assert (await post(running, again))[1]["result"] == "applied"
    at(running, running.clock.now() + timedelta(days=4))
    with pytest.raises(openai.APIStatusError):
        await ask(running, fake_openai)
    paid = FakeStripe.event("invoice.paid", {"id": "in_2", "customer": CUSTOMER},
                            created=now_s(running))  # fmt: skip
    assert (await post(running, paid))[1]["result"] == "applied"
    assert await ask(running, fake_openai) == "fine"
    late = FakeStripe.event(
        "invoice.payment_failed", {"id": "in_0", "customer": CUSTOMER}, created=now_s(running) - 60
    )
    assert (await post(running, late))[1]["result"] == "stale"
    deleted = FakeStripe.event(
        "customer.subscription.deleted", {"id": "sub_1", "customer": CUSTOMER},
        created=now_s(running),
    )  # fmt: skip
    assert (await post(running, deleted))[1]["result"] == "applied"
    assert (await running.hub.billing.accounts.get(running.team.id)).status == "cancelled"
    unknown = FakeStripe.event("charge.succeeded", {"id": "ch_1"}, created=now_s(running))
    assert await post(running, unknown) == (200, {"received": True, "ignored": "charge.succeeded"})
