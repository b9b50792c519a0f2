"""A Stripe failure while creating a team's customer is one sentence, not a traceback, and the
plan the team subscribed to is kept."""

from __future__ import annotations

import pytest

from hub.clock import FakeClock
from hub.errors import PaymentPlatformError
from tests.connectors.stripe.support import stripe_config
from tests.fakes.stripe_api import FakeStripe
from tests.hub.billing.support import MARCH_1, march
from tests.support.hubs import start_hub


async def test_a_refused_customer_says_what_to_do(sqlite_url: str) -> None:
    async with FakeStripe() as fake:
        config = stripe_config(fake)
        config["billing"]["stripe"]["api_key"] = "sk_test_wrong"
        running = await start_hub(config, database_url=sqlite_url, clock=FakeClock(MARCH_1))
        try:
            await running.hub.billing.plans.create("Pro")
            with pytest.raises(PaymentPlatformError) as refused:
                await running.hub.billing.subscribe(running.team, "Pro", start=march(1).date())
            assert refused.value.user_message.startswith(
                "Stripe did not create a customer for team 'acme' (Invalid API Key provided.)."
            )
            assert "sk_test_wrong" not in refused.value.user_message
            assert await running.hub.billing.plans.current(running.team.id, march(2).date())
            assert fake.state.customers == {}
        finally:
            await running.close()
