"""The same webhook-id twice, one after the other and at the same time: one provider call,
one usage record, the same answer both times."""

from __future__ import annotations

import asyncio
import json

import httpx

from tests.connectors.webhooks.support import config_for, hook_rig
from tests.fakes.openai_server import FakeOpenAI, error, reply


async def test_repeat_gets_the_first_answer(sqlite_url: str, fake_openai: FakeOpenAI) -> None:
    rig = await hook_rig(config_for(fake_openai.base_url), database_url=sqlite_url)
    fake_openai.script(reply("first"), reply("second"))
    try:
        body = json.dumps({"input": "hi", "metadata": {"n": 1}}).encode()
        headers = rig.sign(body, msg_id="msg_repeat")
        async with httpx.AsyncClient(timeout=30) as client:
            first = await client.post(rig.url, content=body, headers=headers)
            rig.running.clock.advance(60)  # a sender's retry a minute later, re-signed
            again = await client.post(
                rig.url, content=body, headers=rig.sign(body, msg_id="msg_repeat")
            )
        assert first.status_code == again.status_code == 200
        assert first.json() == again.json()
        assert first.json()["output"] == "first"
        assert len(fake_openai.requests) == 1
        assert len(await rig.usage_rows()) == 1
    finally:
        await rig.running.close()


async def test_concurrent_repeat_waits_for_the_first(
    database_url: str, fake_openai: FakeOpenAI
) -> None:
    rig = await hook_rig(config_for(fake_openai.base_url), database_url=database_url)
    fake_openai.script(reply("slow answer here", gate_after=1))
    try:
        body = json.dumps({"input": "hi"}).encode()
        headers = rig.sign(body, msg_id="msg_concurrent")
        async with httpx.AsyncClient(timeout=30) as client:
            first = asyncio.create_task(client.post(rig.url, content=body, headers=headers))
            async with asyncio.timeout(10):
                await fake_openai.at_gate.wait()  # the first is mid-answer
            second = asyncio.create_task(client.post(rig.url, content=body, headers=headers))
            async with asyncio.timeout(10):
                await rig.connector.routes_.dedupe.waiter_arrived.wait()
            assert not second.done()
            fake_openai.gate.set()
            one, two = await asyncio.gather(first, second)
        assert one.status_code == two.status_code == 200
        assert one.json() == two.json()
        assert one.json()["output"] == "slow answer here"
        assert len(fake_openai.requests) == 1
        assert len(await rig.usage_rows()) == 1
    finally:
        await rig.running.close()


async def test_failed_first_attempt_can_be_retried(
    sqlite_url: str, fake_openai: FakeOpenAI
) -> None:
    rig = await hook_rig(config_for(fake_openai.base_url), database_url=sqlite_url)
    fake_openai.script(error(400, message="bad"), reply("ok now"))
    try:
        body = json.dumps({"input": "hi"}).encode()
        async with httpx.AsyncClient(timeout=30) as client:
            failed = await client.post(rig.url, content=body, headers=rig.sign(body, msg_id="m1"))
            retried = await client.post(rig.url, content=body, headers=rig.sign(body, msg_id="m1"))
        assert failed.status_code == 400
        assert "message" in failed.json()["error"]
        assert retried.status_code == 200
        assert retried.json()["output"] == "ok now"
    finally:
        await rig.running.close()
