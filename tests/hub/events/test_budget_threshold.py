"""`budget.threshold`: crossing 80% and then 100% of the team's monthly budget, once each."""

from __future__ import annotations

from hub.events.dispatcher import Dispatcher
from hub.events.subscriptions import Subscriptions
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.fakes.receivers import Receiver
from tests.hub.events.support import ask_openai, fake_provider_config, served_hub


async def test_eighty_then_hundred_percent_once_each(
    database_url: str, fake_openai: FakeOpenAI
) -> None:
    # Budget $0.001 = 1000 micro-dollars; prompt tokens cost 1 each, completion tokens 2.
    running = await served_hub(
        fake_provider_config(fake_openai.base_url),
        database_url=database_url,
        monthly_budget_micros=1000,
    )
    fake_openai.script(
        reply("a", prompt_tokens=300, completion_tokens=100),  # 500: 50%
        reply("b", prompt_tokens=200, completion_tokens=50),  # 800: crosses 80%
        reply("c", prompt_tokens=50, completion_tokens=25),  # 900: nothing new
        reply("d", prompt_tokens=50, completion_tokens=25),  # 1000: crosses 100%
    )
    try:
        async with Receiver(clock=running.clock) as rx:
            rx.secret = (
                await Subscriptions.for_hub(running.hub).create(
                    team_id=running.team.id, url=rx.url, events=["budget.threshold"]
                )
            ).secret
            dispatcher = Dispatcher.for_hub(running.hub)
            sent: list[int] = []
            for _ in range(4):
                await ask_openai(running, model="gpt", max_tokens=10)
                await dispatcher.run_once()
                sent.append(len(rx.received))
            assert sent == [0, 1, 1, 2]
            first, second = (r.body for r in rx.received)
            assert first["type"] == second["type"] == "budget.threshold"
            assert first["data"] == {
                "team": "acme",
                "scope": "team",
                "scope_id": running.team.id,
                "window": "month",
                "period": "2026-11-01",
                "metric": "cost",
                "threshold_percent": 80,
                "limit": 0.001,
                "used": 0.0008,
                "resets_at": "2026-12-01T00:00:00+00:00",
            }
            assert (second["data"]["threshold_percent"], second["data"]["used"]) == (100, 0.001)
    finally:
        await running.close()
