"""Settlement that survives the database (#10 point 5): answers finish while the database is
unreachable (PostgreSQL behind a TCP proxy the test stops) or locked (a SQLite file held by
another connection); clients get their answers, and every usage record exists once, after
the database is back or the hub restarts and replays its journal."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hub.ledger.journal import FOLDER
from hub.service import Hub
from hub.store.ledger_tables import BudgetCounter, Reservation
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub
from tests.support.records import usage_rows
from tests.support.tcp_proxy import TcpProxy

ANSWERS = 3  # two plain, one streamed


def config(upstream: str, state_dir: Path) -> dict[str, Any]:
    return {
        "providers": {"up": openai_provider_config(upstream)},
        # One token costs 1,000 micro-dollars each way.
        "models": {"gpt": model_config(("up", "m", 1000.0, 1000.0))},
        "ledger": {"settle_wait_s": 0.3, "state_dir": str(state_dir)},
    }


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    running = TcpProxy("127.0.0.1", 5432)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def answers_in_flight(running: RunningHub, fake: FakeOpenAI) -> list[asyncio.Task[Any]]:
    """Three requests admitted and parked mid-answer at the fake upstream."""
    fake.default = reply("one two three", prompt_tokens=7, completion_tokens=3, gate_after=1)
    auth = {"Authorization": f"Bearer {running.key.key}"}
    client = running.client(headers=auth)
    bodies = [
        {"model": "gpt", "messages": [{"role": "user", "content": f"q{i}"}], "stream": i == 2}
        for i in range(ANSWERS)
    ]
    sent = [asyncio.create_task(client.post("/v1/chat/completions", json=b)) for b in bodies]
    async with asyncio.timeout(30):
        await fake.wait_until(lambda: fake.parked == ANSWERS)
    # Each hold is committed before its upstream call.
    assert len(await holds(running.hub)) == ANSWERS
    sent.append(asyncio.create_task(_close_later(client, list(sent))))
    return sent


async def _close_later(client: httpx.AsyncClient, sent: list[asyncio.Task[Any]]) -> None:
    await asyncio.gather(*sent, return_exceptions=True)
    await client.aclose()


async def holds(hub: Hub) -> list[Reservation]:
    async with hub.sessions() as session:
        return list(await session.scalars(select(Reservation)))


async def counters(hub: Hub) -> list[tuple[int, int]]:
    async with hub.sessions() as session:
        return [
            (c.cost_reserved_micros, c.cost_spent_micros)
            for c in await session.scalars(select(BudgetCounter))
        ]


async def answered(sent: list[asyncio.Task[Any]]) -> list[httpx.Response]:
    async with asyncio.timeout(30):
        responses = await asyncio.gather(*sent[:ANSWERS])
    assert [r.status_code for r in responses] == [200] * ANSWERS
    assert [r.json()["choices"][0]["message"]["content"] for r in responses[:2]] == [
        "one two three"
    ] * 2
    assert responses[2].text.endswith("data: [DONE]\n\n")
    await sent[-1]
    return list(responses)


def journal_files(state_dir: Path) -> list[Path]:
    return sorted((state_dir / FOLDER).glob("*.jsonl"))


async def all_settled(hub: Hub) -> None:
    async with asyncio.timeout(30):  # the background retry's backoff is at most 5 s
        await hub.settlements.caught_up()
    rows = await usage_rows(hub)
    assert sorted(r.status for r in rows) == ["ok"] * ANSWERS
    assert len({r.request_id for r in rows}) == ANSWERS
    assert await holds(hub) == []
    # 7 prompt + 3 completion tokens at 1,000 micro-dollars each, per answer; nothing held.
    assert await counters(hub) == [(0, ANSWERS * 10_000)]


async def answered_while_postgres_is_away(
    fake: FakeOpenAI, postgres_url: str, proxy: TcpProxy, state_dir: Path
) -> RunningHub:
    """A hub on PostgreSQL through the proxy, whose three answers finish while it is stopped."""
    url = postgres_url.replace(":5432/", f":{proxy.port}/")
    running = await start_hub(config(fake.base_url, state_dir), database_url=url)
    await running.serve()
    try:
        sent = await answers_in_flight(running, fake)
        await proxy.stop()
        fake.gate.set()
        await answered(sent)
    except BaseException:
        await running.close()
        raise
    return running


@pytest.mark.postgres
async def test_postgres_away_answers_then_retries_settle_when_it_is_back(
    fake_openai: FakeOpenAI, postgres_url: str, proxy: TcpProxy, tmp_path: Path
) -> None:
    running = await answered_while_postgres_is_away(fake_openai, postgres_url, proxy, tmp_path)
    try:
        assert running.hub.settlements.pending == ANSWERS
        (journal,) = journal_files(tmp_path)
        assert stat.S_IMODE(journal.stat().st_mode) == 0o600
        assert journal.read_text().count('{"settle":') == ANSWERS
        await proxy.start()
        await all_settled(running.hub)
        assert journal.read_text().count('{"done":') == ANSWERS
    finally:
        await running.close()
    assert journal_files(tmp_path) == []  # nothing pending: the journal goes


@pytest.mark.postgres
async def test_a_hub_stopped_while_postgres_is_away_replays_its_journal_once(
    fake_openai: FakeOpenAI, postgres_url: str, proxy: TcpProxy, tmp_path: Path
) -> None:
    running = await answered_while_postgres_is_away(fake_openai, postgres_url, proxy, tmp_path)
    await running.close()  # stopping: the settlements stay journaled
    (journal,) = journal_files(tmp_path)
    copy = tmp_path / "copy.jsonl"
    shutil.copy(journal, copy)
    await proxy.start()
    restarted = Hub.open(running.hub.settings, clock=running.clock)
    try:
        assert await restarted.settlements.replay() == ANSWERS
        await all_settled(restarted)
        assert journal_files(tmp_path) == []
        # The same journal again (a process killed after its settle committed, before it
        # noted it): settling is idempotent by request id, nothing is booked twice.
        shutil.move(copy, tmp_path / FOLDER / "again.jsonl")
        assert await restarted.settlements.replay() == ANSWERS
        await all_settled(restarted)
    finally:
        await restarted.close()


async def test_sqlite_locked_by_another_connection_answers_then_settles(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    database = tmp_path / "hub.db"
    running = await start_hub(
        config(fake_openai.base_url, tmp_path / "state"),
        database_url=f"sqlite+aiosqlite:///{database}",
    )
    await running.serve()
    locker = sqlite3.connect(database, isolation_level=None, timeout=30)
    try:
        sent = await answers_in_flight(running, fake_openai)
        locker.execute("BEGIN EXCLUSIVE")  # another program holds the database
        fake_openai.gate.set()
        await answered(sent)
        assert running.hub.settlements.pending == ANSWERS
        (journal,) = journal_files(tmp_path / "state")
        assert journal.read_text().count('{"settle":') == ANSWERS
        locker.execute("COMMIT")
        await all_settled(running.hub)
    finally:
        locker.close()
        await running.close()
