"""kill -9 of `hub serve` under load loses no answered request's usage record (#14, the
durability target of group commit): reserve and settle return only after their batch
committed, so every request a client got an answer for is in the ledger when the process
dies, on SQLite and PostgreSQL. The restarted hub then recovers the requests that were in
flight (its predecessor's holds become `interrupted` records): one record per request, none
held. Real processes; the kill comes once enough answers are in, never after a sleep."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from hub.store.ledger_tables import Reservation, UsageRecord
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.scenarios.test_kill_recovery import toml_config
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub
from tests.support.processes import HubProcess

CLIENTS = 8
ANSWERED_BEFORE_KILL = 40


async def ledger(setup: RunningHub) -> tuple[list[str], int]:
    """Every usage record's user (the request's marker), and the holds left."""
    async with setup.hub.sessions() as session:
        users = list(await session.scalars(select(UsageRecord.user)))
        holds = await session.scalar(select(func.count(Reservation.id)))
    return [u or "" for u in users], int(holds or 0)


@pytest.mark.timeout(240)  # two hub processes start on a shared 2-core machine
async def test_kill_9_under_load_loses_no_answered_request(
    fake_openai: FakeOpenAI, database_url: str, tmp_path: Path
) -> None:
    fake_openai.default = reply("Fine, thanks.", prompt_tokens=5, completion_tokens=3)
    setup = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake_openai.base_url)},
            "models": {"gpt": model_config(("up", "m", 1.0, 1.0))},
        },
        database_url=database_url,
        monthly_budget_micros=10**9,
    )
    config = tmp_path / "hub.toml"
    config.write_text(toml_config(database_url, fake_openai.base_url))
    auth = {"Authorization": f"Bearer {setup.key.key}"}
    answered: list[str] = []
    enough = asyncio.Event()
    try:
        killed = HubProcess(config)
        await killed.__aenter__()

        async def client(number: int, http: httpx.AsyncClient) -> None:
            for sent in range(10_000):
                marker = f"c{number}-{sent}"
                body = {
                    "model": "gpt",
                    "messages": [{"role": "user", "content": "How are you?"}],
                    "user": marker,
                    "stream": sent % 2 == 1,
                }
                try:
                    answer = await http.post(
                        f"{killed.base_url}/v1/chat/completions", json=body, headers=auth
                    )
                    await answer.aread()
                except httpx.HTTPError:
                    return  # the hub is gone: this one was not answered
                assert answer.status_code == 200, answer.text
                answered.append(marker)
                if len(answered) >= ANSWERED_BEFORE_KILL:
                    enough.set()

        async with httpx.AsyncClient(timeout=30) as http:
            load = [asyncio.create_task(client(n, http)) for n in range(CLIENTS)]
            async with asyncio.timeout(120):
                await enough.wait()
            await killed.kill()  # requests in flight on every client
            await asyncio.gather(*load)

        users, holds = await ledger(setup)
        missing = sorted(set(answered) - set(users))
        assert not missing, f"answered but not in the ledger: {missing}"
        assert len(users) == len(set(users))  # one record per request

        async with HubProcess(config):  # recovers its dead predecessor's holds at once
            pass
        users, holds = await ledger(setup)
        assert holds == 0
        assert len(users) == len(set(users))
        assert set(answered) <= set(users)
    finally:
        await setup.close()
