"""kill -9 of `hub serve` mid-stream, then `hub serve` again on the same database (#10 point 2,
the contract): the killed request's hold is recovered within 20 s of the restarted hub
answering /healthz, the team's next request is then admitted, and the killed request is in
`hub usage --team T --by status --json` as `interrupted`, its completion tokens from the
stream's last checkpoint. Real processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from hub.ledger.teams import QuotaSpec
from hub.store.ledger_tables import BudgetCounter, Reservation
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.forked_cli import run_all
from tests.support.hubs import (
    SECRET_KEY,
    RunningHub,
    model_config,
    openai_provider_config,
    start_hub,
)
from tests.support.processes import HubProcess

CONTRACT_S = 20.0
STORY = " ".join(f"word{i}" for i in range(40))


def toml_config(database_url: str, upstream: str) -> str:
    plain = database_url.replace("+aiosqlite", "").replace("+asyncpg", "")
    return (
        f'[database]\nurl = "{plain}"\n'
        # The default lease: a restarted hub recovers its dead predecessor without waiting.
        "[ledger]\ninstance_lease_s = 15\n"
        # The test's own hub sets a quota mid-run, and no Redis carries the change: read
        # quotas afresh (a deployment without Redis sees it within settings_cache_s).
        "settings_cache_s = 0\n"
        f'[providers.up]\ntype = "openai"\nbase_url = "{upstream}"\napi_key = "sk-x"\n'
        '[models.gpt]\ndeployments = [{ provider = "up", model = "m", '
        "input_usd_per_mtok = 1.0, output_usd_per_mtok = 1.0 }]\n"
    )


def ask(max_tokens: int, *, stream: bool = False) -> dict[str, object]:
    return {
        "model": "gpt",
        "messages": [{"role": "user", "content": "Tell me a long story"}],
        "max_tokens": max_tokens,
        "stream": stream,
    }


# How often the test reads the database while it waits for another process to change it (the
# only way it can see that process's work); what it waits for is the row, not the time.
POLL_S = 0.05


async def wait_for_checkpoint(setup: RunningHub) -> Reservation:
    async with asyncio.timeout(30):
        while True:
            async with setup.hub.sessions() as session:
                hold = await session.scalar(select(Reservation))
            if hold is not None and hold.checkpoint_at is not None:
                return hold
            await asyncio.sleep(POLL_S)


async def holds_left(setup: RunningHub) -> tuple[int, int]:
    """Holds in the store and the micro-dollars the team's counters still reserve."""
    async with setup.hub.sessions() as session:
        holds = await session.scalar(select(func.count(Reservation.id)))
        reserved = await session.scalar(
            select(func.coalesce(func.sum(BudgetCounter.cost_reserved_micros), 0))
        )
    return int(holds or 0), int(reserved or 0)


async def wait_until_released(setup: RunningHub, *, within_s: float) -> float:
    """Seconds until the killed process's hold is recovered (no hold, nothing reserved): the
    event that makes room in the budget again."""
    started = time.monotonic()
    async with asyncio.timeout(within_s):
        while await holds_left(setup) != (0, 0):
            await asyncio.sleep(POLL_S)
    return time.monotonic() - started


async def hub_usage(config: Path, team: str, cwd: Path) -> dict[str, object]:
    """`hub usage --team T --by status --json`, as its own process (forked: no start-up)."""
    env = {**os.environ, "HUB_SECRET_KEY": SECRET_KEY}
    args = ["--config", str(config), "usage", "--team", team, "--by", "status", "--json"]
    (done,) = await asyncio.to_thread(run_all, [args], cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


@pytest.mark.timeout(180)  # two hub processes start on a shared 2-core machine
async def test_kill_9_mid_stream_then_restart_admits_the_team_and_records_interrupted(
    fake_openai: FakeOpenAI, database_url: str, tmp_path: Path
) -> None:
    setup = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake_openai.base_url)},
            "models": {"gpt": model_config(("up", "m", 1.0, 1.0))},
        },
        database_url=database_url,
        team="acme",
    )
    config = tmp_path / "hub.toml"
    config.write_text(toml_config(database_url, fake_openai.base_url))
    auth = {"Authorization": f"Bearer {setup.key.key}"}
    # 40 words over 3 s, so the stream checkpoints (every 2 s), then it parks mid-answer.
    fake_openai.script(reply(STORY, delay=0.1, gate_after=30))
    fake_openai.default = reply("Welcome back.", prompt_tokens=5, completion_tokens=3)
    try:
        killed = HubProcess(config)
        await killed.__aenter__()
        async with httpx.AsyncClient(timeout=30) as http:
            answer = asyncio.create_task(
                http.post(
                    f"{killed.base_url}/v1/chat/completions",
                    json=ask(1000, stream=True),
                    headers=auth,
                )
            )
            async with asyncio.timeout(30):
                await fake_openai.at_gate.wait()
            hold = await wait_for_checkpoint(setup)
            assert hold.completion_tokens > 0 and hold.deployment == "up/m"
            # The budget is now exactly what the live request holds: nothing else fits.
            await setup.hub.teams.set_quota(
                QuotaSpec("team", setup.team.id, "month", hold.cost_micros, None),
                team_id=setup.team.id,
            )
            refused = await http.post(
                f"{killed.base_url}/v1/chat/completions", json=ask(20), headers=auth
            )
            assert refused.status_code == 429

            await killed.kill()
            with pytest.raises(httpx.HTTPError):
                await answer

            async with HubProcess(config) as restarted:
                assert (await http.get(f"{restarted.base_url}/healthz")).status_code == 200
                # The contract's 20 s bound the recovery; once the hold is gone the very next
                # request is admitted (no client retries, no pacing).
                waited = await wait_until_released(setup, within_s=CONTRACT_S)
                probe = await http.post(
                    f"{restarted.base_url}/v1/chat/completions", json=ask(20), headers=auth
                )
                assert probe.status_code == 200, probe.text
                print(f"hold recovered {waited:.2f} s after /healthz", file=sys.stderr)
    finally:
        fake_openai.gate.set()
        await setup.close()

    usage = await hub_usage(config, "acme", tmp_path)
    by_status = {g["key"]: g for g in usage["groups"]}  # type: ignore[union-attr]
    assert {k: g["requests"] for k, g in by_status.items() if g["requests"]} == {
        "interrupted": 1,
        "ok": 1,
    }
    interrupted = by_status["interrupted"]
    assert interrupted["requests"] == 1
    assert interrupted["completion_tokens"] == hold.completion_tokens
    assert interrupted["prompt_tokens"] > 0
