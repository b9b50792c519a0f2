"""A circuit opened in one `hub serve` process is respected by the others within a second:
three real processes sharing Redis, one fake upstream whose `primary` model fails with 500s."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest

from tests.fakes.openai_server import FakeOpenAI, error, reply
from tests.support.hubs import model_config, openai_provider_config, start_hub
from tests.support.processes import HubProcess
from tests.support.services import REDIS_URL

OPERATOR_KEY = "operator-key-for-circuits"


def toml_config(*, database_url: str, prefix: str, upstream: str) -> str:
    deployment = (
        '{{ provider = "up", model = "{}", input_usd_per_mtok = 1.0, output_usd_per_mtok = 1.0 }}'
    )
    return (
        f'[database]\nurl = "{database_url}"\n'
        f'[redis]\nurl = "{REDIS_URL}"\nkey_prefix = "{prefix}"\n'
        f'[security]\noperator_key = "{OPERATOR_KEY}"\n'
        "[router]\nmax_retries = 0\ncircuit_failures = 5\ncircuit_cooldown_s = 30\n"
        f'[providers.up]\ntype = "openai"\nbase_url = "{upstream}"\napi_key = "sk-x"\n'
        f"[models.paired]\ndeployments = [{deployment.format('primary')}, "
        f"{deployment.format('backup')}]\n"
    )


async def circuit_state(http: httpx.AsyncClient, base_url: str, label: str) -> str:
    response = await http.get(
        f"{base_url}/admin/api/v1/deployments",
        headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
    )
    row = next(r for r in response.json()["data"] if r["deployment"] == label)
    return str(row["circuit"]["state"])


@pytest.mark.redis
@pytest.mark.timeout(180)  # three processes start on a shared 2-core machine
async def test_an_opened_circuit_crosses_three_processes_within_a_second(
    fake_openai: FakeOpenAI, prefix: str, tmp_path: Path
) -> None:
    fake_openai.by_model["primary"] = error(500)
    fake_openai.default = reply("from backup")
    database = tmp_path / "hub.db"
    setup = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake_openai.base_url)},
            "models": {"paired": model_config(("up", "primary", 1, 1), ("up", "backup", 1, 1))},
        },
        database_url=f"sqlite+aiosqlite:///{database}",
    )
    await setup.close()
    config = tmp_path / "hub.toml"
    config.write_text(
        toml_config(
            database_url=f"sqlite:///{database}", prefix=prefix, upstream=fake_openai.base_url
        )
    )
    async with AsyncExitStack() as stack:
        processes = [HubProcess(config) for _ in range(3)]
        await asyncio.gather(*(stack.enter_async_context(p) for p in processes))
        first, *others = processes
        async with httpx.AsyncClient(timeout=30) as http:

            async def ask(process: HubProcess) -> httpx.Response:
                return await http.post(
                    f"{process.base_url}/v1/chat/completions",
                    headers={"Authorization": f"Bearer {setup.key.key}"},
                    json={"model": "paired", "messages": [{"role": "user", "content": "hi"}]},
                )

            for _ in range(5):  # five consecutive 500s from primary, each answered by backup
                answer = await ask(first)
                assert answer.status_code == 200
                assert answer.headers["X-UniLLM-Deployment"] == "up/backup"
            opened_at = time.monotonic()
            for process in others:
                while await circuit_state(http, process.base_url, "up/primary") != "open":
                    assert time.monotonic() - opened_at < 1.0, "circuit not seen within 1 s"
            seen_within = time.monotonic() - opened_at
            assert fake_openai.models_called().count("primary") == 5
            for process in processes:
                answer = await ask(process)
                assert answer.headers["X-UniLLM-Deployment"] == "up/backup"
            assert fake_openai.models_called().count("primary") == 5  # no process sent it more
    assert seen_within < 1.0
