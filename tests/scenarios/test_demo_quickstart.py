"""The quick start, as a newcomer meets it: the demo provider through the OpenAI SDK."""

from __future__ import annotations

import openai

from tests.support.hubs import start_hub


async def test_openai_sdk_against_demo_provider(sqlite_url: str) -> None:
    running = await start_hub({}, database_url=sqlite_url)
    try:
        await running.serve()
        client = openai.AsyncOpenAI(api_key=running.key.key, base_url=running.base_url + "/v1")
        reply = await client.chat.completions.create(
            model="demo", messages=[{"role": "user", "content": "Hello"}]
        )
        assert reply.choices[0].message.content.startswith("[demo provider]")
        assert '"Hello"' in reply.choices[0].message.content
        models = await client.models.list()
        assert [m.id for m in models.data] == ["demo"]
        await client.close()
        totals = await running.hub.usage.totals(team_id=running.team.id)
        assert totals.requests == 1
        assert totals.completion_tokens == reply.usage.completion_tokens
    finally:
        await running.close()
