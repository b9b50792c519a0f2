"""The Zapier REST API: auth test, Ask LLM, REST hooks (team-isolated), trigger samples."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest_asyncio

from connectors.zapier import plugin as zapier_plugin
from hub.events.dispatcher import Dispatcher
from hub.events.subscriptions import Subscriptions
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.fakes.receivers import Receiver
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub


@pytest_asyncio.fixture
async def running(sqlite_url: str, fake_openai: FakeOpenAI) -> AsyncIterator[RunningHub]:
    config = {
        "webhooks": {"allow_private_targets": True},
        "providers": {"up": openai_provider_config(fake_openai.base_url)},
        "models": {"gpt": model_config(("up", "gpt-x", 1.0, 2.0))},
    }
    # Budget: $0.01 = 10,000 micro-dollars (prompt tokens cost 1 each, completion tokens 2).
    hub = await start_hub(config, database_url=sqlite_url, monthly_budget_micros=10_000)
    await hub.serve(plugins=[zapier_plugin])
    yield hub
    await hub.close()


def client(running: RunningHub, key: str | None = None) -> httpx.AsyncClient:
    headers = {"X-API-Key": key if key is not None else running.key.key}
    return running.client(headers=headers)


async def test_me_and_auth_errors(running: RunningHub) -> None:
    async with client(running) as c:
        me = await c.get("/zapier/me")
    assert me.json() == {"team": "acme", "key_name": "test", "key_prefix": running.key.prefix}
    for key in ("", "uh-nope_x", "sk-other"):
        async with client(running, key) as c:
            refused = await c.get("/zapier/me")
        assert refused.status_code == 401
        assert refused.json()["error"]["message"]


async def test_ask(running: RunningHub, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(reply("Paris.", prompt_tokens=9, completion_tokens=2))
    async with client(running) as c:
        answer = await c.post(
            "/zapier/actions/ask",
            json={"prompt": "Capital of France?", "system": "One word.", "model": "gpt"},
        )
        missing = await c.post("/zapier/actions/ask", json={"model": "gpt"})
        unknown = await c.post("/zapier/actions/ask", json={"prompt": "x", "model": "nope"})
    assert answer.status_code == 200
    body = answer.json()
    assert body == {
        "id": body["id"],
        "output": "Paris.",
        "model": "gpt",
        "usage": {"prompt_tokens": 9, "completion_tokens": 2},
        "cost_usd": 0.000013,
        "metadata": None,
    }
    assert fake_openai.last_json["messages"] == [
        {"role": "system", "content": "One word."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert (missing.status_code, missing.json()["error"]["field"]) == (400, "prompt")
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (400, "model")
    totals = await running.hub.usage.grouped("connector", team_id=running.team.id)
    assert [k for k, _ in totals] == ["zapier"]


async def test_ask_repeated_with_an_idempotency_key_is_answered_once(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(reply("Paris.", prompt_tokens=9, completion_tokens=2))
    ask = {"prompt": "Capital of France?", "model": "gpt", "metadata": {"row": 7}}
    headers = {"Idempotency-Key": "zap-run-42"}
    async with client(running) as c:
        first = await c.post("/zapier/actions/ask", json=ask, headers=headers)
        repeat = await c.post("/zapier/actions/ask", json=ask, headers=headers)
        changed = await c.post(
            "/zapier/actions/ask", json={**ask, "prompt": "Capital of Spain?"}, headers=headers
        )
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    assert (repeat.status_code, repeat.headers["Idempotent-Replayed"]) == (200, "true")
    assert repeat.json() == first.json()
    assert (changed.status_code, changed.json()["error"]["field"]) == (422, "Idempotency-Key")
    assert len([r for r in fake_openai.requests if r.path.endswith("/chat/completions")]) == 1
    totals = await running.hub.usage.grouped("connector", team_id=running.team.id)
    assert [(k, t.requests) for k, t in totals] == [("zapier", 1)]


async def test_rest_hooks_deliver_and_are_team_isolated(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    other = await running.hub.teams.create("other")
    other_key = (await running.hub.keys.create(other, name="b")).key
    async with Receiver(clock=running.clock) as rx, client(running) as c:
        created = await c.post(
            "/zapier/hooks", json={"event": "new_completion", "target_url": rx.url}
        )
        assert created.status_code == 201
        hook_id = created.json()["id"]
        sub = await Subscriptions.for_hub(running.hub).get(hook_id)
        assert (sub.source, sub.events, sub.team_id) == (
            "zapier",
            "completion.created",
            running.team.id,
        )
        rx.secret = running.hub.secrets.decrypt(sub.secret_encrypted)

        answer = (await c.post("/zapier/actions/ask", json={"prompt": "hi", "model": "gpt"})).json()
        await Dispatcher.for_hub(running.hub).run_once()
        [got] = await rx.wait_for(1)
        assert got.body["type"] == "completion.created"
        assert got.body["data"]["id"] == answer["id"]
        # With a subscription, the outbox kept prompt and output: samples show them.
        [item] = (await c.get("/zapier/triggers/new_completion/samples")).json()
        assert (item["id"], item["prompt"], item["output"]) == (
            answer["id"],
            "hi",
            answer["output"],
        )

        async with client(running, other_key) as intruder:
            stolen = await intruder.delete(f"/zapier/hooks/{hook_id}")
        assert stolen.status_code == 404
        assert (await c.delete(f"/zapier/hooks/{hook_id}")).status_code == 204
        assert (await c.delete(f"/zapier/hooks/{hook_id}")).status_code == 404

        bad_event = await c.post("/zapier/hooks", json={"event": "nope", "target_url": rx.url})
        assert (bad_event.status_code, bad_event.json()["error"]["field"]) == (400, "event")


async def test_private_target_refused(sqlite_url: str) -> None:
    strict = await start_hub({}, database_url=sqlite_url)
    await strict.serve(plugins=[zapier_plugin])
    try:
        async with client(strict) as c:
            refused = await c.post(
                "/zapier/hooks",
                json={"event": "budget_alert", "target_url": "http://127.0.0.1:9/x"},
            )
        assert refused.status_code == 400
        assert refused.json()["error"]["field"] == "target_url"
    finally:
        await strict.close()


async def test_samples_are_real_items_newest_first(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    async with client(running) as c:

        async def samples(event: str) -> list[dict[str, Any]]:
            response = await c.get(f"/zapier/triggers/{event}/samples")
            assert response.status_code == 200
            items: list[dict[str, Any]] = response.json()
            return items

        [placeholder] = await samples("new_completion")
        assert placeholder["sample"] is True
        [placeholder] = await samples("budget_alert")
        assert placeholder["sample"] is True

        fake_openai.script(
            reply("one", prompt_tokens=7990, completion_tokens=5),  # 8,000: crosses 80%
            reply("two", prompt_tokens=1990, completion_tokens=5),  # 10,000: crosses 100%
        )
        ask = {"prompt": "a", "model": "gpt", "max_tokens": 5}
        first = (await c.post("/zapier/actions/ask", json=ask)).json()
        running.clock.advance(1)
        second = (await c.post("/zapier/actions/ask", json=ask)).json()
        items = await samples("new_completion")
        assert [i["id"] for i in items] == [second["id"], first["id"]]
        assert "sample" not in items[0]
        assert items[0]["usage"]["completion_tokens"] == 5
        assert await samples("new_completion") == items  # stable

        alerts = await samples("budget_alert")
        # No subscription existed, so these come from the alert ledger, newest first.
        assert [a["id"] for a in alerts] == [
            f"team-{running.team.id}-month-2026-11-01-cost-100",
            f"team-{running.team.id}-month-2026-11-01-cost-80",
        ]
        assert alerts[0]["limit"] == 0.01 and "sample" not in alerts[0]
        assert (await c.get("/zapier/triggers/nope/samples")).status_code == 400


async def test_new_invoice_trigger_gets_invoice_created_and_samples_the_issued_invoices(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    async with Receiver(clock=running.clock) as rx, client(running) as c:
        [placeholder] = (await c.get("/zapier/triggers/new_invoice/samples")).json()
        assert placeholder["sample"] is True
        created = await c.post("/zapier/hooks", json={"event": "new_invoice", "target_url": rx.url})
        assert created.status_code == 201
        sub = await Subscriptions.for_hub(running.hub).get(created.json()["id"])
        assert sub.events == "invoice.created"
        rx.secret = running.hub.secrets.decrypt(sub.secret_encrypted)

        await running.hub.billing.plans.create("Pro", monthly_fee_micros=5_000_000)
        await running.hub.billing.subscribe(running.team, "Pro", start=date(2026, 11, 1))
        fake_openai.script(reply("one", prompt_tokens=1000, completion_tokens=500))
        asked = await c.post("/zapier/actions/ask", json={"prompt": "a", "model": "gpt"})
        assert asked.status_code == 200
        running.clock.advance(17 * 86400)  # 2026-11-15 -> 2026-12-02: November is closed
        [(state, invoice)] = await running.hub.billing.invoices.generate(
            "2026-11", teams=[running.team]
        )
        assert state == "issued" and invoice is not None and invoice.number is not None
        await Dispatcher.for_hub(running.hub).run_once()
        [got] = await rx.wait_for(1)
        assert got.body["type"] == "invoice.created"
        pushed = got.body["data"]
        assert (pushed["id"], pushed["number"], pushed["period"]) == (
            invoice.id, invoice.number, "2026-11",
        )  # fmt: skip
        # The $5 fee and 1,000 prompt tokens at $1/M + 500 completion tokens at $2/M ($0.002),
        # rounded to the cent on the invoice.
        assert pushed["total_usd"] == 5.0
        [item] = (await c.get("/zapier/triggers/new_invoice/samples")).json()
        assert {k: item[k] for k in pushed} == pushed  # the same item either way
        assert "sample" not in item
