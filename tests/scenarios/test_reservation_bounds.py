"""Reservations are real upper bounds (#10 point 3), through the openai SDK against the fake
upstream: no limit is invented when the budget covers the deployment's longest answer; a
tight budget caps the answer (and says so); prompts in any script and large images never
take a team over its budget; a provider that counts more than was held is booked as it
counted and the team is refused from then on.

Prices: $1 per million input tokens and $2 per million output tokens, so an input token
costs 1 micro-dollar and an output token 2. The prompt bound of one user message is
3 (reply priming) + 8 (per message) + 4 ("user") + the UTF-8 bytes of its text.
"""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator, Mapping
from typing import Any

import openai
import pytest
from PIL import Image

from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub
from tests.support.logs import LogCapture
from tests.support.records import usage_rows

pytestmark = pytest.mark.timeout(60)
CAPPED = "X-UniLLM-Max-Tokens-Capped"


def prompt_bound(text: str) -> int:
    return 3 + 8 + len("user") + len(text.encode())


async def hub_for(
    fake: FakeOpenAI, database_url: str, *, budget: int | None, model: str = "gpt-4o-mini"
) -> RunningHub:
    running = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake.base_url)},
            "models": {"gpt": model_config(("up", model, 1.0, 2.0), vision=True)},
        },
        database_url=database_url,
        monthly_budget_micros=budget,
    )
    await running.serve()
    return running


@pytest.fixture
async def roomy(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    running = await hub_for(fake_openai, sqlite_url, budget=10_000_000)
    try:
        yield running
    finally:
        await running.close()


def sdk(running: RunningHub) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key=running.key.key, base_url=running.base_url + "/v1", max_retries=0
    )


def limits_sent(fake: FakeOpenAI) -> dict[str, Any]:
    body: Mapping[str, Any] = fake.last_json
    return {k: body[k] for k in ("max_tokens", "max_completion_tokens") if k in body}


async def test_no_limit_is_sent_and_a_long_answer_is_not_cut_when_the_budget_covers_it(
    roomy: RunningHub, fake_openai: FakeOpenAI
) -> None:
    words = " ".join(f"w{i}" for i in range(2000))
    fake_openai.default = reply(words, honour_max_tokens=True)
    async with sdk(roomy) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt", messages=[{"role": "user", "content": "write a lot"}], stream=True
        )
        pieces = [c.choices[0].delta.content or "" async for c in raw.parse() if c.choices]
    assert limits_sent(fake_openai) == {}
    assert CAPPED not in raw.headers
    assert "".join(pieces) == words
    [row] = await usage_rows(roomy.hub)
    assert (row.status, row.completion_tokens) == ("ok", 2000)


async def test_the_clients_own_limit_goes_upstream_as_the_client_named_it(
    roomy: RunningHub, fake_openai: FakeOpenAI
) -> None:
    fake_openai.default = reply("one two three four five", honour_max_tokens=True)
    async with sdk(roomy) as client:
        answer = await client.chat.completions.create(
            model="gpt", messages=[{"role": "user", "content": "hi"}], max_completion_tokens=3
        )
    assert limits_sent(fake_openai) == {"max_completion_tokens": 3}
    assert answer.choices[0].finish_reason == "length"
    assert answer.choices[0].message.content == "one two three "


@pytest.mark.parametrize(
    ("model", "field"), [("gpt-4o-mini", "max_tokens"), ("o3-mini", "max_completion_tokens")]
)
async def test_a_tight_budget_caps_the_answer_and_says_so(
    fake_openai: FakeOpenAI, sqlite_url: str, model: str, field: str
) -> None:
    # 1,000 micro-dollars: the prompt bound (20 tokens, 20 µ$) leaves 980 µ$, 490 output
    # tokens; the deployment's default 32,768 does not fit.
    running = await hub_for(fake_openai, sqlite_url, budget=1_000, model=model)
    fake_openai.default = reply("short answer", prompt_tokens=9, completion_tokens=2)
    try:
        async with sdk(running) as client:
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt", messages=[{"role": "user", "content": "hello"}]
            )
        assert raw.headers[CAPPED] == "490"
        assert limits_sent(fake_openai) == {field: 490}
        assert raw.parse().choices[0].message.content == "short answer"
        [row] = await usage_rows(running.hub)
        assert (row.status, row.cost_micros) == ("ok", 9 * 1 + 2 * 2)
    finally:
        await running.close()


async def test_a_client_limit_above_what_is_left_is_capped_too(
    fake_openai: FakeOpenAI, sqlite_url: str
) -> None:
    running = await hub_for(fake_openai, sqlite_url, budget=1_000)
    try:
        async with sdk(running) as client:
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt", messages=[{"role": "user", "content": "hello"}], max_tokens=5000
            )
        assert raw.headers[CAPPED] == "490"
        assert limits_sent(fake_openai) == {"max_tokens": 490}
    finally:
        await running.close()


@pytest.mark.parametrize(("budget", "admitted"), [(51, False), (52, True)])
async def test_refused_only_when_the_prompt_and_the_shortest_answer_do_not_fit(
    fake_openai: FakeOpenAI, sqlite_url: str, budget: int, admitted: bool
) -> None:
    # "hello": 20 µ$ of prompt bound + 16 tokens (min_answer_tokens) at 2 µ$ = 52 µ$.
    running = await hub_for(fake_openai, sqlite_url, budget=budget)
    fake_openai.default = reply("ok", prompt_tokens=9, completion_tokens=1)
    try:
        async with sdk(running) as client:
            if admitted:
                raw = await client.chat.completions.with_raw_response.create(
                    model="gpt", messages=[{"role": "user", "content": "hello"}]
                )
                assert raw.headers[CAPPED] == "16"
                assert limits_sent(fake_openai) == {"max_tokens": 16}
            else:
                with pytest.raises(openai.RateLimitError) as refused:
                    await client.chat.completions.create(
                        model="gpt", messages=[{"role": "user", "content": "hello"}]
                    )
                assert "less than this request could cost ($0.000052)" in str(refused.value)
                assert fake_openai.requests == []
        assert len(await usage_rows(running.hub)) == (1 if admitted else 0)
    finally:
        await running.close()


def png_data_url(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


CJK = (
    "请用中文详细解释一下量子计算的基本原理以及它和传统计算机"
    "有什么根本的区别谢谢你的帮助我很想了解这个问题的答案"
)
EMOJI = "😀🎉🚀🌍🔥💡🎶🍕🐍🧠" * 3
# gpt-4o-mini counts a 2048 x 2048 image as 2,833 + 4 tiles of 5,667 tokens (768 x 768 after
# its resizes), 25,501 in all; the old flat estimate held 1,600.
IMAGE_TOKENS = 25_501
PROMPTS = {
    # content, the prompt tokens the provider reports (more than len(text) / 3), the bound
    "CJK": (CJK, 90, prompt_bound(CJK)),
    "emoji": (EMOJI, 90, prompt_bound(EMOJI)),
    "large image": (
        [
            {"type": "text", "text": "what is it"},
            {"type": "image_url", "image_url": {"url": png_data_url(2048, 2048)}},
        ],
        IMAGE_TOKENS + 10,
        prompt_bound("what is it") + IMAGE_TOKENS,
    ),
}


@pytest.mark.parametrize("case", list(PROMPTS))
async def test_a_budget_that_fits_exactly_one_answer_is_never_overspent(
    fake_openai: FakeOpenAI, database_url: str, case: str
) -> None:
    content, reported, bound = PROMPTS[case]
    max_tokens = 10
    budget = bound * 1 + max_tokens * 2  # exactly one worst case
    running = await hub_for(fake_openai, database_url, budget=budget)
    fake_openai.default = reply(
        "a b c d e f g h i j", prompt_tokens=reported, completion_tokens=max_tokens
    )
    try:
        async with sdk(running) as client:
            outcomes = []
            for _ in range(3):
                try:
                    await client.chat.completions.create(
                        model="gpt",
                        messages=[{"role": "user", "content": content}],
                        max_tokens=max_tokens,
                    )
                    outcomes.append("answered")
                except openai.RateLimitError:
                    outcomes.append("refused")
        assert outcomes == ["answered", "refused", "refused"]
        spent = await running.hub.usage.totals(team_id=running.team.id)
        assert spent.cost_micros == reported * 1 + max_tokens * 2 <= budget
        assert len(await usage_rows(running.hub)) == 1
    finally:
        await running.close()


async def test_a_provider_counting_past_the_hold_is_booked_and_the_team_refused_after(
    fake_openai: FakeOpenAI, sqlite_url: str, logs: LogCapture
) -> None:
    running = await hub_for(fake_openai, sqlite_url, budget=1_000)
    fake_openai.default = reply("ok", prompt_tokens=5_000, completion_tokens=3)
    try:
        async with sdk(running) as client:
            await client.chat.completions.create(
                model="gpt", messages=[{"role": "user", "content": "hello"}], max_tokens=10
            )
            with pytest.raises(openai.RateLimitError) as refused:
                await client.chat.completions.create(
                    model="gpt", messages=[{"role": "user", "content": "hello"}], max_tokens=10
                )
        assert "reached its monthly budget of $0.001" in str(refused.value)
        [row] = await usage_rows(running.hub)
        assert (row.prompt_tokens, row.cost_micros) == (5_000, 5_000 + 3 * 2)
        warning = next(r for r in logs.records if "more than it held" in r.getMessage())
        assert warning.levelname == "WARNING"
        assert row.request_id in warning.getMessage()
        assert len(fake_openai.requests) == 1
    finally:
        await running.close()
