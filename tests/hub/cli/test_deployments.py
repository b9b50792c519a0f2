"""`hub deployments` as a process, asking a running hub (in this test's event loop) for the
health it measured, and saying so when no hub answers."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from connectors.admin_api import plugin as admin_api
from connectors.openai_api import plugin as openai_api
from tests.fakes.openai_server import FakeOpenAI, error, reply
from tests.support.hubs import SECRET_KEY, free_port, openai_provider_config, start_hub

HUB = str(Path(sys.executable).with_name("hub"))
OPERATOR_KEY = "operator-key-for-deployments"


async def run_cli(config: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "REDIS_URL"))}
    env["HUB_SECRET_KEY"] = SECRET_KEY
    process = await asyncio.create_subprocess_exec(
        HUB, "--config", str(config), *args, env=env, cwd=config.parent,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return int(process.returncode or 0), out.decode(), err.decode()


def models() -> dict[str, object]:
    price = {"input_usd_per_mtok": 1.0, "output_usd_per_mtok": 1.0}
    return {
        "paired": {
            "deployments": [
                {"provider": "up", "model": "primary", **price},
                {"provider": "up", "model": "backup", **price},
            ]
        }
    }


# Two `hub` processes and a served hub: minutes, not seconds, on a busy 2-core machine.
@pytest.mark.timeout(240)
async def test_lists_circuit_state_latency_and_error_rate_of_a_running_hub(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    database = tmp_path / "hub.db"
    running = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake_openai.base_url)},
            "models": models(),
            "security": {"secret_key": SECRET_KEY, "operator_key": OPERATOR_KEY},
            "router": {"max_retries": 0},
        },
        database_url=f"sqlite+aiosqlite:///{database}",
    )
    fake_openai.by_model["primary"] = error(500)
    fake_openai.default = reply("ok")
    try:
        url = await running.serve([openai_api, admin_api])
        async with running.client() as http:
            for _ in range(5):
                answer = await http.post(
                    "/v1/chat/completions",
                    headers={"Authorization": f"Bearer {running.key.key}"},
                    json={"model": "paired", "messages": [{"role": "user", "content": "hi"}]},
                )
                assert answer.headers["X-UniLLM-Deployment"] == "up/backup"
        config = tmp_path / "hub.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{database}"\n'
            f'[security]\noperator_key = "{OPERATOR_KEY}"\n'
            f'[providers.up]\ntype = "openai"\nbase_url = "{fake_openai.base_url}"\n'
            "[models.paired]\ndeployments = ["
            + ", ".join(
                f'{{ provider = "up", model = "{m}", input_usd_per_mtok = 1, '
                "output_usd_per_mtok = 1 }"
                for m in ("primary", "backup")
            )
            + "]\n"
        )
        code, out, err = await run_cli(config, "deployments", "--url", url, "--json")
        assert code == 0, err
        rows = {row["deployment"]: row for row in json.loads(out)["data"]}
        primary, backup = rows["up/primary"], rows["up/backup"]
        assert primary["circuit"]["state"] == "open"
        assert primary["circuit"]["reason"] == "5 failures in a row"
        assert primary["circuit"]["until"] == "2026-11-15T12:00:30+00:00"  # the hub's fake clock
        assert (primary["requests"], primary["failures"], primary["error_rate"]) == (5, 5, 1.0)
        assert (backup["requests"], backup["failures"], backup["circuit"]["state"]) == (
            5, 0, "closed",
        )  # fmt: skip
        assert primary["aliases"] == ["paired"] and backup["last_error"] is None

        code, out, err = await run_cli(config, "deployments", "--url", url)
        assert code == 0, err
        header, *lines = out.splitlines()
        assert header.split()[:3] == ["DEPLOYMENT", "ALIASES", "CIRCUIT"]
        assert lines[0].startswith("up/primary") and "open until 12:00:30Z" in lines[0]
        assert "100% of 5" in lines[0] and "provider_unavailable" in lines[0]

        # No hub at that address: said so, and the configured deployments are still listed.
        elsewhere = f"http://127.0.0.1:{free_port()}"
        code, out, err = await run_cli(config, "deployments", "--url", elsewhere, "--json")
        assert code == 0, err
        assert f"no hub answered at {elsewhere}" in err
        listed = json.loads(out)
        assert listed["source"] == "configuration"
        assert [r["circuit"]["state"] for r in listed["data"]] == ["unknown", "unknown"]
    finally:
        await running.close()
