"""The ledger's invariants as properties (#10 point 7), on SQLite and PostgreSQL.

For random prompts (any Unicode, any length, images of known and unknown size), random
usages an honest provider could report (within the documented bound: no more prompt tokens
than UTF-8 bytes plus the images' published formulas; no more completion tokens than the
limit it was sent), random endings (ok, an error before or after the first chunk, the
client gone, the handler cancelled, an upstream ignoring its limit, impossible usage) and
up to 100 concurrent requests against a team with a random budget and token quota:

- spend never passes the budget or the token quota;
- every admitted request has exactly one usage record, a refused one none;
- nothing is held once every request has ended;
- the counters equal the sum of the usage records.

Each example gets a new team on one hub, so the examples stay independent and fast.
"""

from __future__ import annotations

import asyncio
import io
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select

from hub.errors import HubError, LimitError
from hub.ledger.teams import QuotaSpec
from hub.model import (
    Caller,
    ChatOptions,
    ChatParams,
    ChatRequest,
    ContentPart,
    ImagePart,
    Message,
    Origin,
    TextPart,
)
from hub.store.ledger_tables import BudgetCounter, Reservation, UsageRecord
from tests.fakes.llm_script import Behaviour
from tests.fakes.openai_server import FakeOpenAI, error, mid_stream_error, reply
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub

pytestmark = pytest.mark.timeout(240)
ENDINGS = ("ok", "error_before", "error_after", "client_gone", "cancel", "runaway", "absurd")


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


# gpt-4o-mini's published formula, worked by hand: 2,833 + 5,667 a 512-px tile after the
# image is fitted into 2048 x 2048 and its short side scaled to 768.
IMAGES: dict[str, tuple[ImagePart, int]] = {
    "small": (ImagePart("image/png", data=_png(64, 64)), 2833 + 4 * 5667),  # 768 x 768
    "wide": (ImagePart("image/png", data=_png(2048, 1024)), 2833 + 6 * 5667),  # 1536 x 768
    "url": (ImagePart("image/png", url="https://images.example/x.png"), 2833 + 8 * 5667),
}


@dataclass(frozen=True)
class Ask:
    text: str
    image: str | None
    max_tokens: int | None
    ending: str
    words: int
    reported_percent: int  # of the honest worst case for the prompt


asks = st.builds(
    Ask,
    text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=400),
    image=st.none() | st.sampled_from(sorted(IMAGES)),
    max_tokens=st.none() | st.integers(1, 64),
    ending=st.sampled_from(ENDINGS),
    words=st.integers(1, 40),
    reported_percent=st.integers(0, 100),
)


@pytest.fixture
async def running(fake_openai: FakeOpenAI, database_url: str) -> AsyncIterator[RunningHub]:
    hub = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake_openai.base_url)},
            # $3 and $15 per million tokens: 3 and 15 micro-dollars a token.
            "models": {"gpt": model_config(("up", "gpt-4o-mini", 3.0, 15.0), vision=True)},
            "router": {
                "max_retries": 0,
                "circuit_failures": 1000,
                "circuit_min_requests": 100_000,
            },
        },
        database_url=database_url,
    )
    try:
        yield hub
    finally:
        await hub.close()


class Script:
    """What the fake upstream does for each request, found by the marker in `user`."""

    def __init__(self) -> None:
        self.asks: dict[str, Ask] = {}

    def behaviour(self, body: Any) -> Behaviour | None:
        ask = self.asks.get(str(body.get("user")))
        if ask is None:
            return None
        words = " ".join(f"w{i}" for i in range(ask.words))
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        prompt = _honest_prompt_tokens(body, ask) * ask.reported_percent // 100
        if ask.ending == "error_before":
            return error(500)
        if ask.ending == "error_after":
            return mid_stream_error(after=1, text=words, honour_max_tokens=True)
        if ask.ending == "runaway":  # ignores its limit and writes on
            extra = " ".join(f"x{i}" for i in range((limit or 40) + 30))
            return reply(extra, prompt_tokens=prompt)
        if ask.ending == "absurd":
            return reply(words, prompt_tokens=-(10**9))
        return reply(words, prompt_tokens=prompt, honour_max_tokens=True)


def _honest_prompt_tokens(body: Any, ask: Ask) -> int:
    """The most a byte-level BPE provider could count: every text's UTF-8 bytes, 4 tokens a
    message (OpenAI's documented overhead is 3 to 4), the image by its formula."""
    total = 0
    for message in body["messages"]:
        total += 4
        content = message.get("content")
        parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
        for part in parts:
            if part.get("type") == "text":
                total += len(str(part["text"]).encode())
    return total + (IMAGES[ask.image][1] if ask.image else 0)


async def one(running: RunningHub, caller: Caller, marker: str, ask: Ask) -> str:
    content: tuple[ContentPart, ...] = (TextPart(ask.text),)
    if ask.image is not None:
        content += (IMAGES[ask.image][0],)
    request = ChatRequest(
        caller=caller,
        origin=Origin(connector="property"),
        messages=(Message("user", content),),
        model="gpt",
        options=ChatOptions(max_tokens=ask.max_tokens),
        params=ChatParams(user=marker),
    )
    admitted = False
    try:
        async with running.hub.chat(request) as stream:  # as a connector drives it
            admitted = True
            async for _ in stream:
                if ask.ending == "client_gone":
                    break
                if ask.ending == "cancel":
                    asyncio.current_task().cancel()  # type: ignore[union-attr]
                    await asyncio.sleep(0)
    except LimitError:
        if admitted:
            raise
        return "refused"
    except (HubError, asyncio.CancelledError):
        pass  # the ending this example asked for
    return "admitted"


counter = itertools.count()


@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    database=None,  # derandomized: nothing to replay, no .hypothesis folder
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=st.lists(asks, min_size=1, max_size=100),
    budget=st.none() | st.integers(0, 3_000_000),
    quota=st.none() | st.integers(0, 600_000),
    key_day_budget=st.none() | st.integers(0, 2_000_000),
)
async def test_every_ending_is_booked_once_within_every_limit(
    running: RunningHub,
    fake_openai: FakeOpenAI,
    batch: list[Ask],
    budget: int | None,
    quota: int | None,
    key_day_budget: int | None,
) -> None:
    hub = running.hub
    team = await hub.teams.create(
        f"prop-{next(counter)}", monthly_budget_micros=budget, monthly_token_quota=quota
    )
    key = await hub.keys.create(team, name="prop")
    if key_day_budget is not None:
        await hub.teams.set_quota(
            QuotaSpec("key", key.id, "day", key_day_budget, None), team_id=team.id
        )
    caller = Caller(team_id=team.id, team_name=team.name, key_id=key.id)
    script = Script()
    fake_openai.chooser = script.behaviour
    markers = [f"{team.id}-{i}" for i in range(len(batch))]
    script.asks.update(zip(markers, batch, strict=True))
    outcomes = await asyncio.gather(
        *(
            asyncio.create_task(one(running, caller, m, a))
            for m, a in zip(markers, batch, strict=True)
        ),
        return_exceptions=True,
    )
    assert all(o in ("admitted", "refused") for o in outcomes), outcomes
    admitted = outcomes.count("admitted")
    async with hub.sessions() as session:
        records = list(
            await session.scalars(select(UsageRecord).where(UsageRecord.team_id == team.id))
        )
        holds = await session.scalar(
            select(func.count(Reservation.id)).where(Reservation.team_id == team.id)
        )
        team_months = list(
            await session.scalars(
                select(BudgetCounter).where(
                    BudgetCounter.scope == "team", BudgetCounter.scope_id == team.id
                )
            )
        )
        key_days = list(
            await session.scalars(
                select(BudgetCounter).where(
                    BudgetCounter.scope == "key", BudgetCounter.scope_id == key.id
                )
            )
        )
    assert len(records) == admitted
    assert len({r.request_id for r in records}) == admitted
    assert holds == 0
    spent_cost = sum(r.cost_micros for r in records)
    spent_tokens = sum(r.prompt_tokens + r.completion_tokens for r in records)
    assert all(r.cost_micros >= 0 and r.prompt_tokens >= 0 for r in records)
    if budget is not None:
        assert spent_cost <= budget
    if quota is not None:
        assert spent_tokens <= quota
    if key_day_budget is not None:
        assert spent_cost <= key_day_budget
    # Every counter the requests moved (the team's month; the key's day when limited)
    # holds nothing and equals the sum of the records (one clock day: the hub's is fake).
    moved = team_months + key_days if admitted else []
    assert len(moved) == (1 + (key_day_budget is not None) if admitted else 0)
    for counted in moved:
        assert (counted.cost_reserved_micros, counted.tokens_reserved) == (0, 0)
        assert (counted.cost_spent_micros, counted.tokens_spent) == (spent_cost, spent_tokens)
