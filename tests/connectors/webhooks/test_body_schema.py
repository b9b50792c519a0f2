"""One model validates the body and is its schema in /openapi.json: on each example, the
published `WebhookCall` schema and the served hook agree on whether the body is valid.

They differ in three known ways, pinned below: null is "not given" to the hook (the schema
names only the value to send); 5.0 is an integer to JSON Schema but a float to the hook; and
the last message must be the user's, which the schema says in its description."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from jsonschema import Draft202012Validator

from tests.connectors.webhooks.support import HookRig, config_for, hook_rig
from tests.fakes.openai_server import FakeOpenAI

USER = {"role": "user", "content": "hi"}
EXAMPLES: list[tuple[Any, bool]] = [
    ({"input": "hi"}, True),
    ({"messages": [USER]}, True),
    ({"messages": [{"role": "system", "content": "x"}, {**USER, "content": []}]}, True),
    ({"input": "hi", "model": "gpt", "max_tokens": 1, "metadata": {"k": [1]}}, True),
    ({"input": "hi", "max_tokens": 2**31 - 1}, True),
    ({"input": "hi", "unknown": 1}, True),
    ({}, False),
    ({"input": "hi", "messages": [USER]}, False),
    ({"input": ""}, False),
    ({"input": " \n"}, False),
    ({"input": 1}, False),
    ({"messages": []}, False),
    ({"messages": [{"role": "tool", "content": "x"}]}, False),
    ({"messages": [{"role": "user", "content": {"text": "x"}}]}, False),
    ({"messages": [{"role": "user", "content": [{"type": "text"}]}]}, False),
    ({"input": "hi", "max_tokens": 0}, False),
    ({"input": "hi", "max_tokens": 2**31}, False),
    ({"input": "hi", "max_tokens": True}, False),
    ({"input": "hi", "max_tokens": "5"}, False),
    ({"input": "hi", "model": ""}, False),
    ({"input": "hi", "metadata": "x"}, False),
    ({"input": "hi", "callback_url": "ftp://x"}, False),
    ([{"input": "hi"}], False),
]


@pytest_asyncio.fixture
async def rig(sqlite_url: str, fake_openai: FakeOpenAI) -> AsyncIterator[HookRig]:
    rig = await hook_rig(config_for(fake_openai.base_url), database_url=sqlite_url)
    yield rig
    await rig.running.close()


async def published(rig: HookRig) -> Draft202012Validator:
    async with rig.running.client() as c:
        document = (await c.get("/openapi.json")).json()
    schema = {"$ref": "#/components/schemas/WebhookCall", "components": document["components"]}
    return Draft202012Validator(schema)


async def test_the_schema_and_the_hook_agree_on_each_example(rig: HookRig) -> None:
    schema = await published(rig)
    for body, valid in EXAMPLES:
        assert schema.is_valid(body) is valid, body
        response = await rig.post(body)
        assert response.status_code == (200 if valid else 400), (body, response.text)


async def test_where_they_differ(rig: HookRig) -> None:
    schema = await published(rig)
    # null is "not given" to the hook; the schema names only the value to send.
    assert not schema.is_valid({"input": "hi", "model": None, "max_tokens": None})
    assert (await rig.post({"input": "hi", "model": None, "max_tokens": None})).status_code == 200
    # 5.0 is an integer to JSON Schema; to the hub, as to the JSON it came in, a float.
    assert schema.is_valid({"input": "hi", "max_tokens": 5.0})
    assert (await rig.post({"input": "hi", "max_tokens": 5.0})).status_code == 400
    # The last message must be the user's: the description says so, JSON Schema cannot.
    last = {"messages": [{"role": "assistant", "content": "x"}]}
    assert schema.is_valid(last)
    assert (
        "the last message is the user's"
        in schema.schema["components"]["schemas"]["WebhookCall"]["description"]
    )
    assert (await rig.post(last)).status_code == 400
