"""The conformance cases driven by openai-python, plain and streamed: each case straight at
the fake upstream and through the hub, compared (what the upstream received, what the SDK
handed the application), and the ledger against the upstream's usage."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai
import pytest
import pytest_asyncio

from tests.conformance.cases import AGENT_FILE, CASES_DIR, all_cases, render
from tests.conformance.harness import (
    HUB_SET,
    JSON,
    OPENAI_MODEL,
    accumulate,
    anthropic_request_matches,
    expected_cost_micros,
    expected_usage,
    hub_config,
    load_cases,
    replay,
    upstream_request_matches,
    without,
)
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI
from tests.support.hubs import RunningHub, start_hub
from tests.support.records import usage_rows

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")  # one hub for every case
CASES = load_cases()
# Cases fail on purpose (429s, 5xx), and a circuit breaker opens on them: the fake clock
# moves past any cooldown before each case, so every case reaches the upstream.
COOLDOWN_S = 601.0


@dataclass
class World:
    hub: RunningHub
    openai: FakeOpenAI
    anthropic: FakeAnthropic
    direct: openai.AsyncOpenAI  # straight at the fake OpenAI upstream
    via_hub: openai.AsyncOpenAI
    seen_rows: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    db: Path = tmp_path_factory.mktemp("conformance") / "hub.db"
    async with FakeOpenAI() as oa, FakeAnthropic() as claude:
        running = await start_hub(
            hub_config(oa.base_url, claude.origin), database_url=f"sqlite+aiosqlite:///{db}"
        )
        await running.serve()
        direct = openai.AsyncOpenAI(api_key="sk-conformance", base_url=oa.base_url, max_retries=0)
        via_hub = openai.AsyncOpenAI(
            api_key=running.key.key, base_url=running.base_url + "/v1", max_retries=0
        )
        try:
            yield World(running, oa, claude, direct, via_hub)
        finally:
            await direct.close()
            await via_hub.close()
            await running.close()


@dataclass
class Outcome:
    status: int
    objects: list[JSON]  # the completion, or the chunks
    headers: dict[str, str]
    error: JSON | None = None


async def call(client: openai.AsyncOpenAI, model: str, request: JSON, *, stream: bool) -> Outcome:
    extra: JSON = {"stream": True, "stream_options": {"include_usage": True}} if stream else {}
    known = set(inspect.signature(client.chat.completions.create).parameters)
    named = {k: v for k, v in request.items() if k in known}
    unknown = {k: v for k, v in request.items() if k not in known}  # as SDK users send them
    try:
        raw = await client.chat.completions.with_raw_response.create(
            model=model, **named, **extra, extra_body=unknown or None
        )
    except openai.APIStatusError as exc:
        body = exc.body if isinstance(exc.body, dict) else {}
        return Outcome(exc.status_code, [], dict(exc.response.headers), error=body)
    parsed = raw.parse()
    if stream:
        objects = [c.model_dump(exclude_unset=True) async for c in parsed]
    else:
        objects = [parsed.model_dump(exclude_unset=True)]
    return Outcome(raw.status_code, objects, dict(raw.headers))


async def through_hub(world: World, case: JSON, model: str, *, stream: bool) -> Outcome:
    world.hub.clock.advance(COOLDOWN_S)  # type: ignore[attr-defined]
    return await call(world.via_hub, model, case["request"], stream=stream)


async def last_row(world: World) -> Any:
    hub = world.hub.hub
    journaled = hub.settlements.pending
    if journaled:
        # The database was busy past a failed attempt (a loaded machine): the settlement is
        # durable in the journal and reaches the database on retry; still one record.
        async with asyncio.timeout(30):  # the retry's backoff is at most 5 s
            await hub.settlements.caught_up()
    rows = await usage_rows(hub)
    expected = world.seen_rows + 1
    world.seen_rows = len(rows)  # a miscount fails its own case, not every case after it
    assert len(rows) == expected, f"exactly one usage record per request ({journaled} journaled)"
    return rows[-1]


async def check_ledger(world: World, case: JSON, wire: str, outcome: Outcome) -> None:
    row = await last_row(world)
    usage = expected_usage(case)
    if outcome.status != 200 or usage is None:
        assert (row.status, row.cost_micros) == ("error", 0)
        return
    assert row.status == "ok"
    got = (
        row.prompt_tokens,
        row.completion_tokens,
        row.cached_tokens,
        row.cache_write_tokens,
        row.reasoning_tokens,
    )
    assert got == usage
    assert row.cost_micros == expected_cost_micros(wire, usage)


def stripped(objects: list[JSON], *keys: str) -> list[JSON]:
    return [without(o, *keys) for o in objects]


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["kind"] == "openai"], ids=lambda c: c["name"]
)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@MODULE_LOOP
async def test_openai_upstream(world: World, case: JSON, stream: bool) -> None:
    fake = world.openai
    fake.script(replay(case["upstream"]))
    direct = await call(world.direct, OPENAI_MODEL, case["request"], stream=stream)
    sent_direct = fake.last_json
    fake.script(replay(case["upstream"]))
    hub = await through_hub(world, case, "gpt", stream=stream)
    upstream_request_matches(sent_direct, fake.last_json)
    expect = case.get("expect", {})
    if direct.status >= 400:
        assert hub.status == expect["status"]
        if "code" in expect:
            assert hub.error is not None and hub.error["code"] == expect["code"]
        else:
            assert hub.error == direct.error  # the upstream's own words
        if hub.status == 429:
            assert int(hub.headers["retry-after"]) >= 1
    else:
        assert hub.status == 200
        assert all(o["model"] == "gpt" for o in hub.objects)
        assert len({o["id"] for o in hub.objects}) == 1
        assert stripped(hub.objects, "id", "model") == stripped(direct.objects, "id", "model")
    await check_ledger(world, case, "openai", hub)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["kind"] == "anthropic"], ids=lambda c: c["name"]
)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@MODULE_LOOP
async def test_anthropic_upstream(world: World, case: JSON, stream: bool) -> None:
    world.anthropic.script(replay(case["upstream"]))
    hub = await through_hub(world, case, case["model"], stream=stream)
    expect = case["expect"]
    if "anthropic" not in expect:  # an error case
        assert hub.status == expect["status"]
        assert hub.error is not None
        if "error" in expect:
            assert hub.error == expect["error"]
        else:
            assert hub.error["code"] == expect["code"]
        if hub.status == 429:
            assert int(hub.headers["retry-after"]) >= 1
        await check_ledger(world, case, "anthropic", hub)
        return
    assert hub.status == 200, hub.error
    anthropic_request_matches(expect["anthropic"], world.anthropic.last_json)
    assert hub.headers.get("x-unillm-dropped-params") == (
        ", ".join(expect["dropped"]) if "dropped" in expect else None
    )
    # The SDK sees what it sees straight at an OpenAI upstream giving the same answer.
    world.openai.script(replay(case["twin"]))
    twin = await call(
        world.direct,
        OPENAI_MODEL,
        {"messages": [{"role": "user", "content": "twin"}]},
        stream=stream,
    )
    if stream:
        assert accumulate(hub.objects) == accumulate(twin.objects)
    else:
        assert stripped(hub.objects, "id", "model", "created") == stripped(
            twin.objects, "id", "model", "created"
        )
    await check_ledger(world, case, "anthropic", hub)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["kind"] == "hub_only"], ids=lambda c: c["name"]
)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@MODULE_LOOP
async def test_hub_only(world: World, case: JSON, stream: bool) -> None:
    fakes = {"gpt": world.openai, "claude": world.anthropic}
    before = len(fakes[case["model"]].requests)
    if case["upstream"]:
        fakes[case["model"]].script(replay(case["upstream"]))
    hub = await through_hub(world, case, case["model"], stream=stream)
    expect = case["expect"]
    assert hub.status == expect["status"]
    assert hub.error is not None and hub.error["code"] == expect["code"]
    if "param" in expect:
        assert hub.error["param"] == expect["param"]
        assert len(fakes[case["model"]].requests) == before  # refused before any call
    await check_ledger(world, case, "openai", hub)


def test_cases_are_many_and_cover_both_wires() -> None:
    kinds = [c["kind"] for c in CASES]
    assert len(CASES) >= 50
    assert kinds.count("openai") >= 25 and kinds.count("anthropic") >= 20
    assert set(HUB_SET) >= {"model", "stream"}


def test_case_files_are_current() -> None:
    """cases/*.json are what cases.py writes (`python -m tests.conformance.cases`)."""
    written = {c["name"]: render(c) for c in all_cases()}
    on_disk = {p.stem: p.read_text() for p in CASES_DIR.glob("*.json")}
    assert on_disk == written


def run_tool(name: str, arguments: str) -> str:
    args = json.loads(arguments)
    return {"get_weather": f"sunny in {args.get('city')}", "get_time": "12:00"}[name]


@MODULE_LOOP
@pytest.mark.parametrize(("model", "wire"), [("gpt", "openai"), ("claude", "anthropic")])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_agent_loop_with_two_tool_round_trips(
    world: World, model: str, wire: str, stream: bool
) -> None:
    """A hand-written agent loop: call, run the tools the model asked for, call again."""
    loops = json.loads(AGENT_FILE.read_text())
    fake: FakeOpenAI | FakeAnthropic = world.openai if wire == "openai" else world.anthropic
    fake.script(*(replay(turn) for turn in loops[wire]))
    before = len(fake.requests)
    messages: list[JSON] = [{"role": "user", "content": loops["question"]}]
    world.hub.clock.advance(COOLDOWN_S)  # type: ignore[attr-defined]
    for _ in range(5):
        outcome = await call(
            world.via_hub, model, {"messages": messages, "tools": loops["tools"]}, stream=stream
        )
        assert outcome.status == 200, outcome.error
        answer = accumulate(outcome.objects)["choices"][0] if stream else None
        if answer is None:
            message = outcome.objects[0]["choices"][0]["message"]
            calls = [
                (c["id"], c["function"]["name"], c["function"]["arguments"])
                for c in message.get("tool_calls") or ()
            ]
            content = message.get("content")
        else:
            calls = [(c["id"], c["name"], c["arguments"]) for c in answer["tool_calls"].values()]
            content = answer["content"]
        if not calls:
            break
        messages.append(
            {
                "role": "assistant",
                "content": content or None,
                "tool_calls": [
                    {"id": i, "type": "function", "function": {"name": n, "arguments": a}}
                    for i, n, a in calls
                ],
            }
        )
        messages += [
            {"role": "tool", "tool_call_id": i, "content": run_tool(n, a)} for i, n, a in calls
        ]
    assert content == loops["answer"]
    sent = [r.json for r in fake.requests[before:]]
    assert len(sent) == 3
    if wire == "openai":
        assert [m["role"] for m in sent[2]["messages"]] == [
            "user",
            "assistant",
            "tool",
            "assistant",
            "tool",
        ]
    else:
        results = [
            b for m in sent[2]["messages"] for b in m["content"] if b["type"] == "tool_result"
        ]
        assert [(r["tool_use_id"], r["content"]) for r in results] == [
            ("toolu_a1", "sunny in Paris"),
            ("toolu_a2", "12:00"),
        ]
    world.seen_rows += 3
