"""A hub billing through the fake Stripe: its configuration, and a worker that is built and
torn down for every run (its own engine, HTTP client and Stripe SDK client)."""

from __future__ import annotations

from typing import Any

from hub.billing.exports import ExportReport
from hub.clock import Clock
from hub.config import Settings
from hub.service import Hub
from tests.fakes.stripe_api import API_KEY, FakeStripe
from tests.hub.billing.support import three_models

WEBHOOK_SECRET = "whsec_test_secret"


def stripe_config(fake: FakeStripe, *, openai_url: str = "http://127.0.0.1:9/v1") -> dict[str, Any]:
    return three_models(openai_url) | {
        "billing": {
            "suspend_after_days": 3,
            "stripe": {
                "api_key": API_KEY,
                "webhook_secret": WEBHOOK_SECRET,
                "meter_event_name": "llm_tokens",
                "api_base": fake.base_url,
                # Past an ordinary answer on a loaded CI machine (0.3 s once was not), short of
                # the fake's "timeout" hold (test_export: 3 s).
                "timeout_s": 1.0,
            },
        }
    }


async def worker_run(settings: Settings, clock: Clock) -> ExportReport:
    """One run of a fresh worker process's export job, then the worker is gone."""
    hub = Hub.open(settings, clock=clock)
    try:
        platform = hub.billing.platform()
        assert platform is not None
        return await hub.billing.exporter.run_once(platform)
    finally:
        await hub.close()
