"""`callback_url`: 202 at once, then one signed callback carrying the answer, retried on
failure by the same durable delivery machinery as events."""

from __future__ import annotations

import json

import httpx

from hub.events.dispatcher import Dispatcher
from tests.connectors.webhooks.support import config_for, hook_rig
from tests.fakes.openai_server import FakeOpenAI, error, reply
from tests.fakes.receivers import Receiver


async def test_accepted_then_one_signed_callback(
    database_url: str, fake_openai: FakeOpenAI
) -> None:
    rig = await hook_rig(config_for(fake_openai.base_url), database_url=database_url)
    fake_openai.script(reply("Done: 42.", prompt_tokens=8, completion_tokens=3))
    try:
        async with Receiver(clock=rig.running.clock, secret=rig.issued.secret) as rx:
            rx.script(500)  # the first callback attempt fails; the retry gets through
            payload = {"input": "compute", "metadata": {"job": "a"}, "callback_url": rx.url}
            body = json.dumps(payload).encode()
            headers = rig.sign(body, msg_id="msg_async")
            async with httpx.AsyncClient(timeout=30) as client:
                accepted = await client.post(rig.url, content=body, headers=headers)
                assert accepted.status_code == 202
                assert set(accepted.json()) == {"id"}
                await rig.connector.routes_.answers.drain()
                again = await client.post(rig.url, content=body, headers=headers)
            assert (again.status_code, again.json()) == (202, accepted.json())

            dispatcher = Dispatcher.for_hub(rig.running.hub)
            await dispatcher.run_once()
            assert rx.hits == 1 and rx.received == []
            rig.running.clock.advance(5)
            await dispatcher.run_once()
            [got] = await rx.wait_for(1)
            assert got.body == {
                "id": accepted.json()["id"],
                "output": "Done: 42.",
                "model": "gpt",
                "usage": {"prompt_tokens": 8, "completion_tokens": 3},
                "cost_usd": 0.000014,
                "metadata": {"job": "a"},
            }
            assert got.headers["webhook-id"].startswith("evt_cb_")
            rig.running.clock.advance(3600)
            assert (await dispatcher.run_once()).attempted == 0
            assert len(rx.received) == 1 and rx.hits == 2
            assert len(fake_openai.requests) == 1
            [row] = await rig.usage_rows()
            assert (row.connector, row.request_id) == ("webhooks", accepted.json()["id"])
    finally:
        await rig.running.close()


async def test_provider_failure_is_reported_by_callback(
    sqlite_url: str, fake_openai: FakeOpenAI
) -> None:
    rig = await hook_rig(config_for(fake_openai.base_url), database_url=sqlite_url)
    fake_openai.script(error(400, message="context too long"))
    try:
        async with Receiver(clock=rig.running.clock, secret=rig.issued.secret) as rx:
            response = await rig.post({"input": "x", "callback_url": rx.url, "metadata": {"k": 1}})
            assert response.status_code == 202
            await rig.connector.routes_.answers.drain()
            await Dispatcher.for_hub(rig.running.hub).run_once()
            [got] = await rx.wait_for(1)
            assert got.body["id"] == response.json()["id"]
            assert got.body["metadata"] == {"k": 1}
            assert got.body["error"]["message"]
    finally:
        await rig.running.close()
