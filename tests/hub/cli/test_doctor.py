"""`hub doctor` as a process against real fakes: every part checked, a fix for each ✗."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.fakes.discord_rest import APP_ID, BOT_TOKEN, FakeDiscordRest
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack

HUB = str(Path(sys.executable).with_name("hub"))


async def doctor(config: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DATABASE_URL"))}
    process = await asyncio.create_subprocess_exec(
        HUB,
        "--config",
        str(config),
        "doctor",
        *args,
        cwd=config.parent,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.timeout(180)
async def test_doctor_reports_each_part_with_a_fix(tmp_path: Path) -> None:
    key_file = tmp_path / "secret-key"
    key_file.write_text(Fernet.generate_key().decode())
    key_file.chmod(0o644)  # readable by everyone: doctor says so
    (tmp_path / "db").mkdir(mode=0o700)
    (tmp_path / "db" / "hub.db").touch(mode=0o600)
    async with (
        FakeOpenAI() as good,
        FakeOpenAI() as bad,
        FakeSlack() as slack,
        FakeDiscordRest() as discord,
    ):
        good.api_key = "sk-right"
        bad.api_key = "sk-right"
        config = tmp_path / "hub.toml"
        config.write_text(
            f"""
[database]
url = "sqlite:///db/hub.db"
[security]
secret_key_file = "secret-key"
[providers.good]
type = "openai"
base_url = "{good.base_url}"
api_key = "sk-right"
[providers.bad]
type = "openai"
base_url = "{bad.base_url}"
api_key = "sk-wrong"
[models.default]
deployments = [
  {{ provider = "good", model = "gpt-4o-mini", input_usd_per_mtok = 1, output_usd_per_mtok = 2 }},
  {{ provider = "bad", model = "gpt-4o-mini", input_usd_per_mtok = 1, output_usd_per_mtok = 2 }},
]
[connectors.slack]
enabled = true
signing_secret = "s3cret"
bot_token = "{DEFAULT_TOKEN}"
api_base_url = "{slack.base_url}"
[connectors.discord]
enabled = true
application_id = "{APP_ID}"
public_key = "{"ab" * 32}"
bot_token = "{BOT_TOKEN}"
api_base_url = "{discord.base_url}"
"""
        )
        good_models = f"{good.base_url}/models"
        status, out, err = await doctor(config, "--json")
        table_status, table, _ = await doctor(config)
    assert status == 1, err
    rows = json.loads(out)
    assert all(set(row) == {"check", "ok", "detail"} for row in rows)
    by_name = {row["check"]: row for row in rows}
    failing = sorted(name for name, row in by_name.items() if not row["ok"])
    assert failing == ["database schema", "file mode: secret key file", "provider bad"]
    assert by_name["database schema"]["detail"] == (
        "the database is not migrated: run `hub migrate`"
    )
    assert "refused the API key (401)" in by_name["provider bad"]["detail"]
    assert f"fix: chmod 600 {key_file}" in by_name["file mode: secret key file"]["detail"]
    assert by_name["provider good"]["detail"].startswith(f"answered GET {good_models}")
    assert by_name["slack bot token"]["detail"].startswith("auth.test: workspace")
    assert by_name["discord application id"]["detail"].startswith(APP_ID)
    assert by_name["config"]["ok"] and by_name["database"]["ok"]
    assert table_status == 1
    assert "✗ provider bad" in table and "✓ provider good" in table
    assert "sk-right" not in out + table and "s3cret" not in out + table


async def test_doctor_on_a_broken_config_is_one_failing_row(tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(
        '[servr]\n[providers.p]\ntype = "demo"\n[models.m]\n'
        'deployments = [{ provider = "p", model = "m", input_usd_per_mtok = 1, '
        "output_usd_per_mtok = 1 }]\n"
    )
    status, out, _ = await doctor(config, "--json")
    assert status == 1
    [row] = json.loads(out)
    assert row["check"] == "config" and row["ok"] is False
    assert "servr is not a setting; did you mean `server`?" in row["detail"]
