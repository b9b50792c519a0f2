"""Usage through the admin API: filters (time, member, model, connector), grouping, and money
in US dollars computed by hand from the stated prices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from connectors.admin_api import plugin as admin_api
from connectors.openai_api import plugin as openai_api
from connectors.zapier import plugin as zapier
from tests.connectors.admin_api.support import API, AdminHub, admin_config, admin_hub
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import model_config, openai_provider_config

# gpt: USD 1 per million prompt tokens and 2 per million completion tokens (1 and 2 micro-
# dollars per token); mini: 2 and 4.
MODELS = {
    "gpt": model_config(("up", "gpt-x", 1.0, 2.0)),
    "mini": model_config(("up", "mini-x", 2.0, 4.0)),
}


@pytest_asyncio.fixture
async def usage_hub(
    sqlite_url: str, fake_openai: FakeOpenAI
) -> AsyncIterator[tuple[AdminHub, int]]:
    config = admin_config(
        providers={"up": openai_provider_config(fake_openai.base_url)}, models=MODELS
    )
    async with admin_hub(sqlite_url, plugins=(openai_api, zapier, admin_api), config=config) as h:
        hub = h.running.hub
        ann = await hub.members.add(h.a.team, "ann")
        ann_key = await hub.keys.create(h.a.team, name="ann", member_id=ann.id)
        fake_openai.script(
            reply("a", prompt_tokens=10, completion_tokens=5),  # ann, gpt: 10 + 10 = 20
            reply("b", prompt_tokens=100, completion_tokens=50),  # u2, mini: 200 + 200 = 400
            reply("c", prompt_tokens=3, completion_tokens=1),  # zapier, gpt: 3 + 2 = 5
            reply("d", prompt_tokens=7, completion_tokens=7),  # team B: not A's
            reply("e", prompt_tokens=1, completion_tokens=1),  # ann, next day, gpt: 1 + 2 = 3
        )
        await chat(h, ann_key.key, "gpt", "u1")
        await chat(h, h.a.member.key, "mini", "u2")
        async with h.running.client(headers={"X-API-Key": h.a.member.key}) as c:
            asked = await c.post("/zapier/actions/ask", json={"prompt": "hi", "model": "gpt"})
            assert asked.status_code == 200, asked.text
        await chat(h, h.b.member.key, "gpt", "u1")
        h.running.clock.advance(86400)  # type: ignore[attr-defined]
        await chat(h, ann_key.key, "gpt", "u1")
        yield h, ann.id


async def chat(h: AdminHub, key: str, model: str, user: str) -> None:
    body = {"model": model, "user": user, "messages": [{"role": "user", "content": "hi"}]}
    async with h.running.client(headers={"Authorization": f"Bearer {key}"}) as c:
        response = await c.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text


def totals(requests: int, prompt: int, completion: int, micros: int) -> dict[str, Any]:
    return {
        "requests": requests,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cost_usd": micros / 1_000_000,
        "cached_requests": 0,  # response cache hits (#18): none here
        "saved_usd": 0.0,
    }


async def usage(h: AdminHub, key: str, **params: Any) -> dict[str, Any]:
    async with h.client(key) as c:
        response = await c.get(f"{API}/teams/{h.a.team.id}/usage", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_usage_filters_and_groups(usage_hub: tuple[AdminHub, int]) -> None:
    h, ann = usage_hub
    viewer = h.a.viewer.key  # viewers may read usage
    assert await usage(h, viewer) == {
        "totals": totals(4, 114, 57, 428),
        "group_by": None,
        "groups": [],
    }
    by_model = await usage(h, viewer, group_by="model")
    assert by_model["groups"] == [
        {"key": "gpt"} | totals(3, 14, 7, 28),
        {"key": "mini"} | totals(1, 100, 50, 400),
    ]
    by_connector = await usage(h, viewer, group_by="connector")
    assert by_connector["groups"] == [
        {"key": "openai_api"} | totals(3, 111, 56, 423),
        {"key": "zapier"} | totals(1, 3, 1, 5),
    ]
    by_day = await usage(h, viewer, group_by="day")
    assert by_day["groups"] == [
        {"key": "2026-11-15"} | totals(3, 113, 56, 425),
        {"key": "2026-11-16"} | totals(1, 1, 1, 3),
    ]
    by_user = await usage(h, viewer, group_by="user", model="gpt", connector="openai_api")
    assert by_user == {
        "totals": totals(2, 11, 6, 23),
        "group_by": "user",
        "groups": [{"key": "openai_api:u1"} | totals(2, 11, 6, 23)],
    }
    assert (await usage(h, viewer, member_id=ann))["totals"] == totals(2, 11, 6, 23)
    assert (await usage(h, viewer, since="2026-11-16"))["totals"] == totals(1, 1, 1, 3)
    day_one = await usage(h, viewer, since="2026-11-15T00:00:00+00:00", until="2026-11-16")
    assert day_one["totals"] == totals(3, 113, 56, 425)


async def test_usage_refusals_name_the_field(usage_hub: tuple[AdminHub, int]) -> None:
    h, _ = usage_hub
    async with h.client(h.a.viewer.key) as c:
        for params, field in (
            ({"group_by": "week"}, "group_by"),
            ({"since": "yesterday"}, "since"),
            ({"member_id": "x"}, "member_id"),
            ({"colour": "red"}, "colour"),
        ):
            response = await c.get(f"{API}/teams/{h.a.team.id}/usage", params=params)
            assert response.status_code == 400, params
            assert response.json()["error"]["field"] == field
