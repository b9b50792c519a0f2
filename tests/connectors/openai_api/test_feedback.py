"""POST /v1/feedback as an API caller sends it: votes next to the usage record, without any
experiment; refusals in the OpenAI error shape."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from hub.store.routing_tables import Feedback
from tests.support.hubs import RunningHub, start_hub
from tests.support.records import usage_rows


@pytest.fixture
async def running(sqlite_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub({}, database_url=sqlite_url)
    await hub.serve()
    try:
        yield hub
    finally:
        await hub.close()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def completion_id(client: httpx.AsyncClient) -> str:
    messages = [{"role": "user", "content": "hi"}]
    answer = await client.post("/v1/chat/completions", json={"model": "demo", "messages": messages})
    assert answer.status_code == 200
    return str(answer.json()["id"])


async def test_a_vote_is_stored_next_to_the_usage_record_and_replaced_by_a_second(
    running: RunningHub,
) -> None:
    async with running.client(headers=bearer(running.key.key)) as client:
        response_id = await completion_id(client)
        first = await client.post(
            "/v1/feedback", json={"response_id": response_id, "rating": -1, "comment": "wrong"}
        )
        again = await client.post("/v1/feedback", json={"response_id": response_id, "rating": 1})
    assert first.status_code == again.status_code == 200
    assert first.json() == {
        "object": "feedback", "id": first.json()["id"], "response_id": response_id,
        "rating": -1, "comment": "wrong", "replaced": False,
    }  # fmt: skip
    assert again.json() == {**first.json(), "rating": 1, "comment": None, "replaced": True}
    (usage,) = await usage_rows(running.hub)
    async with running.hub.sessions() as session:
        (vote,) = list(await session.scalars(select(Feedback)))
    assert (vote.usage_id, vote.team_id, vote.rating, vote.source, vote.voter) == (
        usage.id, running.team.id, 1, "openai_api", f"key:{running.key.id}",
    )  # fmt: skip


async def test_refusals_name_the_problem_in_the_openai_error_shape(running: RunningHub) -> None:
    other_team = await running.hub.teams.create("globex")
    other_key = await running.hub.keys.create(other_team, name="theirs")
    async with running.client(headers=bearer(running.key.key)) as client:
        response_id = await completion_id(client)
        wrong_rating = await client.post(
            "/v1/feedback", json={"response_id": response_id, "rating": 5}
        )
        unknown_field = await client.post(
            "/v1/feedback", json={"response_id": response_id, "rating": 1, "score": 3}
        )
        unknown_id = await client.post(
            "/v1/feedback", json={"response_id": "chatcmpl-nope", "rating": 1}
        )
    async with running.client(headers=bearer(other_key.key)) as client:
        not_theirs = await client.post(
            "/v1/feedback", json={"response_id": response_id, "rating": -1}
        )
    async with running.client() as client:
        anonymous = await client.post(
            "/v1/feedback", json={"response_id": response_id, "rating": 1}
        )
    assert (wrong_rating.status_code, wrong_rating.json()["error"]["param"]) == (400, "rating")
    assert wrong_rating.json()["error"]["type"] == "invalid_request_error"
    assert (unknown_field.status_code, unknown_field.json()["error"]["param"]) == (400, "score")
    for refused in (unknown_id, not_theirs):
        assert refused.status_code == 404
        assert refused.json()["error"]["message"].startswith("No answer with id ")
    assert not_theirs.json()["error"]["message"] == unknown_id.json()["error"]["message"].replace(
        "chatcmpl-nope", response_id
    )  # another team's answer looks exactly like no answer
    assert anonymous.status_code == 401
    async with running.hub.sessions() as session:
        assert list(await session.scalars(select(Feedback))) == []
