"""Shared steps for the event tests: a served hub, a completion through the OpenAI API."""

from __future__ import annotations

from typing import Any

from connectors.openai_api import plugin as openai_plugin
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub

PRIVATE_OK = {"webhooks": {"allow_private_targets": True}}


def fake_provider_config(base_url: str) -> dict[str, Any]:
    """Prompt tokens cost 1 micro-dollar each, completion tokens 2."""
    return {
        **PRIVATE_OK,
        "providers": {"up": openai_provider_config(base_url)},
        "models": {"gpt": model_config(("up", "gpt-x", 1.0, 2.0))},
    }


async def served_hub(config: dict[str, Any], *, database_url: str, **kwargs: Any) -> RunningHub:
    running = await start_hub(config, database_url=database_url, **kwargs)
    await running.serve(plugins=[openai_plugin])
    return running


async def ask_openai(
    running: RunningHub, text: str = "hi", *, model: str = "demo", max_tokens: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": text}]}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    async with running.client() as client:
        response = await client.post(
            "/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {running.key.key}"},
        )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
