"""Fixtures: the fake Slack API, the fake LLM, and a hub serving the Slack connector."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
import pytest_asyncio

from connectors.slack.plugin import plugin
from tests.connectors.slack.harness import CHANNEL, SIGNING_SECRET, TEAM, SlackHarness
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack
from tests.support.hubs import model_config, openai_provider_config, start_hub

__all__ = ["CHANNEL", "TEAM"]
HarnessFactory = Callable[..., AbstractAsyncContextManager[SlackHarness]]


@pytest_asyncio.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


def hub_config(
    llm: FakeOpenAI, slack: FakeSlack, *, multi_workspace: bool = False, **slack_extra: Any
) -> dict[str, Any]:
    section: dict[str, Any] = {
        "enabled": True,
        "signing_secret": SIGNING_SECRET,
        "api_base_url": slack.base_url,
        **slack_extra,
    }
    if multi_workspace:
        section.update(client_id=slack.client_id, client_secret=slack.client_secret)
    else:
        section["bot_token"] = DEFAULT_TOKEN
    return {
        "providers": {"up": openai_provider_config(llm.base_url)},
        "models": {
            "default": model_config(("up", "gpt-4o-mini", 1.0, 2.0)),
            "vision": model_config(("up", "gpt-4o", 2.5, 10.0), vision=True),
        },
        "connectors": {"slack": section},
    }


@pytest.fixture
def slack_hub(sqlite_url: str, fake_openai: FakeOpenAI, fake_slack: FakeSlack) -> HarnessFactory:
    """`async with slack_hub(bind=True, ...) as h:` a served hub, the workspace bound to acme."""

    @asynccontextmanager
    async def make(
        *,
        bind: bool = True,
        multi_workspace: bool = False,
        config: dict[str, Any] | None = None,
        **start: Any,
    ) -> AsyncIterator[SlackHarness]:
        raw = config or hub_config(fake_openai, fake_slack, multi_workspace=multi_workspace)
        running = await start_hub(raw, database_url=sqlite_url, **start)
        fake_slack.clock = running.clock  # type: ignore[assignment]
        try:
            if bind:
                await running.hub.bindings.bind("slack", TEAM, running.team)
            await running.serve(plugins=[plugin])
            async with running.client() as http:
                harness = SlackHarness(running, fake_slack, fake_openai, http)
                try:
                    yield harness
                finally:
                    fake_openai.gate.set()
                    await harness.connector.drain()
        finally:
            await running.close()

    return make
