"""The Zapier API's bodies are typed models (connectors/zapier/bodies.py): each wrong body is
a 400 naming the field in one sentence, with no provider call, no usage and no subscription;
what the model accepts, the published schema (ZapierAsk, ZapierSubscribe) accepts too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from connectors.zapier import plugin as zapier_plugin
from hub.store.event_tables import Subscription
from tests.fakes.openai_server import FakeOpenAI
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub

ASK_REFUSED: list[tuple[Any, str, str]] = [
    ({}, "prompt", "'prompt' is required."),
    ({"prompt": ""}, "prompt", "'prompt': string should have at least 1 character."),
    ({"prompt": "  "}, "prompt", "'prompt' must not be blank."),
    ({"prompt": 5}, "prompt", "'prompt': input should be a valid string."),
    ({"prompt": "hi", "system": 1}, "system", "'system': input should be a valid string."),
    ({"prompt": "hi", "model": ""}, "model", "'model': string should have at least 1 character."),
    (
        {"prompt": "hi", "max_tokens": "8"},
        "max_tokens",
        "'max_tokens': input should be a valid integer.",
    ),
    (
        {"prompt": "hi", "max_tokens": True},
        "max_tokens",
        "'max_tokens': input should be a valid integer.",
    ),
    (
        {"prompt": "hi", "max_tokens": 8.0},
        "max_tokens",
        "'max_tokens': input should be a valid integer.",
    ),
    (
        {"prompt": "hi", "max_tokens": 0},
        "max_tokens",
        "'max_tokens': input should be greater than or equal to 1.",
    ),
    (
        {"prompt": "hi", "max_tokens": 2**31},
        "max_tokens",
        "'max_tokens': input should be less than or equal to 2147483647.",
    ),
    (["hi"], "body", "The body must be a JSON object."),
]
SUBSCRIBE_REFUSED: list[tuple[Any, str, str]] = [
    ({"target_url": "https://example.com/h"}, "event", "'event' is required."),
    ({"event": "new_completion"}, "target_url", "'target_url' is required."),
    (
        {"event": "nope", "target_url": "https://example.com/h"},
        "event",
        "'event' must be one of new_completion, budget_alert, new_invoice, key_created, "
        "key_revoked (or its hub event type).",
    ),
    (
        {"event": 1, "target_url": "https://example.com/h"},
        "event",
        "'event': input should be a valid string.",
    ),
    (
        {"event": "budget_alert", "target_url": ["https://example.com/h"]},
        "target_url",
        "'target_url': input should be a valid string.",
    ),
]


@pytest_asyncio.fixture
async def running(sqlite_url: str, fake_openai: FakeOpenAI) -> AsyncIterator[RunningHub]:
    config = {
        "webhooks": {"allow_private_targets": True},
        "providers": {"up": openai_provider_config(fake_openai.base_url)},
        "models": {"gpt": model_config(("up", "gpt-x", 1.0, 2.0))},
    }
    hub = await start_hub(config, database_url=sqlite_url)
    await hub.serve(plugins=[zapier_plugin])
    yield hub
    await hub.close()


async def subscriptions(running: RunningHub) -> int:
    async with running.hub.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Subscription)) or 0)


async def test_wrong_bodies_are_400_naming_the_field(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    async with running.client(headers={"X-API-Key": running.key.key}) as c:
        for path, cases in (
            ("/zapier/actions/ask", ASK_REFUSED),
            ("/zapier/hooks", SUBSCRIBE_REFUSED),
        ):
            for body, field, message in cases:
                answer = await c.post(path, json=body, headers={"Idempotency-Key": "k-1"})
                assert (answer.status_code, answer.json()) == (
                    400,
                    {
                        "error": {
                            "message": message,
                            "code": "invalid_request_error",
                            "field": field,
                        }
                    },
                ), (path, body)
    assert fake_openai.requests == []
    assert await running.hub.usage.grouped("connector", team_id=running.team.id) == []
    assert await subscriptions(running) == 0


async def test_what_the_schema_publishes_the_api_accepts(
    running: RunningHub, fake_openai: FakeOpenAI
) -> None:
    async with running.client(headers={"X-API-Key": running.key.key}) as c:
        components = (await c.get("/openapi.json")).json()["components"]

        def valid(name: str, body: Any) -> bool:
            schema = {"$ref": f"#/components/schemas/{name}", "components": components}
            return Draft202012Validator(schema).is_valid(body)

        ask = {"prompt": "hi", "system": "", "model": "gpt", "max_tokens": 4, "metadata": [1]}
        hook = {"event": "completion.created", "target_url": "http://127.0.0.1:9/h"}
        assert valid("ZapierAsk", ask) and valid("ZapierSubscribe", hook)
        assert (await c.post("/zapier/actions/ask", json=ask)).status_code == 200
        assert (await c.post("/zapier/hooks", json=hook)).status_code == 201
        for body, _, _ in ASK_REFUSED:
            if body != {"prompt": "hi", "max_tokens": 8.0}:  # 8.0 is an integer to JSON Schema
                assert not valid("ZapierAsk", body), body
        for body, _, _ in SUBSCRIBE_REFUSED:
            assert not valid("ZapierSubscribe", body), body
