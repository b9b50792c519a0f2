"""A signed webhook answered synchronously, as JSON or SSE, accounted to connector `webhooks`."""

from __future__ import annotations

import json

import httpx

from tests.connectors.webhooks.support import config_for, hook_rig
from tests.fakes.openai_server import FakeOpenAI, reply


async def test_sync_answer_matches_the_ledger(sqlite_url: str, fake_openai: FakeOpenAI) -> None:
    rig = await hook_rig(config_for(fake_openai.base_url), database_url=sqlite_url)
    fake_openai.script(reply("The answer is 4.", prompt_tokens=12, completion_tokens=5))
    try:
        response = await rig.post(
            {"input": "What is 2+2?", "max_tokens": 50, "metadata": {"ticket": 17}}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        [row] = await rig.usage_rows()
        assert body == {
            "id": row.request_id,
            "output": "The answer is 4.",
            "model": "gpt",
            "usage": {"prompt_tokens": 12, "completion_tokens": 5},
            "cost_usd": 0.000022,  # 12 x $1/M + 5 x $2/M
            "metadata": {"ticket": 17},
        }
        assert (row.connector, row.prompt_tokens, row.completion_tokens, row.cost_micros) == (
            "webhooks",
            12,
            5,
            22,
        )
        assert row.channel == rig.issued.hook.id and row.status == "ok"
        upstream = fake_openai.last_json
        assert upstream["messages"] == [{"role": "user", "content": "What is 2+2?"}]
        assert upstream["max_tokens"] == 50 or upstream.get("max_completion_tokens") == 50
    finally:
        await rig.running.close()


async def test_messages_and_default_model(sqlite_url: str, fake_openai: FakeOpenAI) -> None:
    rig = await hook_rig(config_for(fake_openai.base_url), database_url=sqlite_url)
    try:
        messages = [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
        ]
        response = await rig.post({"messages": messages})
        assert response.status_code == 200, response.text
        assert response.json()["model"] == "gpt"  # the hook's default alias
        assert response.json()["metadata"] is None
        assert fake_openai.last_json["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ]
    finally:
        await rig.running.close()


async def test_event_stream(sqlite_url: str, fake_openai: FakeOpenAI) -> None:
    rig = await hook_rig(config_for(fake_openai.base_url), database_url=sqlite_url)
    fake_openai.script(reply("one two three", prompt_tokens=3, completion_tokens=3))
    try:
        body = json.dumps({"input": "count"}).encode()
        headers = {**rig.sign(body), "accept": "text/event-stream"}
        events = []
        async with httpx.AsyncClient(timeout=30) as client:
            async with client.stream("POST", rig.url, content=body, headers=headers) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                name = None
                async for line in response.aiter_lines():
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        events.append((name, json.loads(line[6:])))
        deltas = [data["text"] for name, data in events if name == "delta"]
        assert deltas == ["one ", "two ", "three"]
        done_name, done = events[-1]
        assert done_name == "done"
        assert done["output"] == "one two three"
        assert done["usage"] == {"prompt_tokens": 3, "completion_tokens": 3}
        assert len(await rig.usage_rows()) == 1
    finally:
        await rig.running.close()


async def test_null_optional_fields_are_absent_and_unknown_fields_ignored(
    sqlite_url: str, fake_openai: FakeOpenAI
) -> None:
    """Senders that write every field (null when unset) or add their own keep working."""
    rig = await hook_rig(config_for(fake_openai.base_url), database_url=sqlite_url)
    try:
        response = await rig.post(
            {
                "messages": [
                    {"role": "user", "content": "Hi", "name": "ignored"},
                    {"role": "assistant", "content": []},
                    {
                        "role": "user",
                        "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                    },
                ],
                "model": None,
                "max_tokens": None,
                "metadata": None,
                "callback_url": None,
                "source": "crm",
            }
        )
        assert response.status_code == 200, response.text
        assert (response.json()["model"], response.json()["metadata"]) == ("gpt", None)
        assert fake_openai.last_json["messages"] == [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": ""},
            {"role": "user", "content": "ab"},
        ]
        [row] = await rig.usage_rows()
        assert row.status == "ok"
    finally:
        await rig.running.close()
