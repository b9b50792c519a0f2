"""`hub config check|show`, and a config mistake stopping every command: real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

HUB = str(Path(sys.executable).with_name("hub"))
GOOD = """
[database]
url = "sqlite:///var/hub.db"
[security]
secret_key = "{key}"
[providers.up]
type = "openai"
base_url = "http://127.0.0.1:9/v1"
api_key = "${{UP_KEY}}"
[models.default]
deployments = [{{ provider = "up", model = "m", {price} = 0.5, output_usd_per_mtok = 1.5 }}]
[connectors.slack]
enabled = false
client_secret = "slack-client-secret-value"
"""


def write(folder: Path, *, price: str = "input_usd_per_mtok") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hub.toml"
    path.write_text(GOOD.format(key=Fernet.generate_key().decode(), price=price))
    return path


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DATABASE_URL"))}
    env["UP_KEY"] = "sk-upstream-secret-value"
    return subprocess.run(
        [HUB, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.timeout(180)
def test_an_unknown_key_stops_serve_migrate_and_check_with_one_line(tmp_path: Path) -> None:
    config = str(write(tmp_path / "etc", price="input_usd_per_mtoken"))
    commands = [
        ("--config", config, "serve", "--port", "0"),
        ("--config", config, "migrate"),
        ("--config", config, "config", "check"),
        ("config", "check", "--config", config),
    ]
    with ThreadPoolExecutor(len(commands)) as pool:
        results = list(pool.map(lambda c: run(*c, cwd=tmp_path), commands))
    for command, done in zip(commands, results, strict=True):
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1, (command, done.stderr)
        assert len(lines) == 1, (command, done.stderr)
        assert "Traceback" not in done.stderr
        assert lines[0] == (
            f"error: {config}: models.default.deployments[0].input_usd_per_mtoken is not a "
            "setting; did you mean `input_usd_per_mtok`?"
        )
    assert not (tmp_path / "etc" / "var").exists()  # nothing was started or created


def test_check_and_show_from_another_folder(tmp_path: Path) -> None:
    config = write(tmp_path / "etc")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with ThreadPoolExecutor(2) as pool:
        check, show = pool.map(
            lambda args: run(*args, cwd=elsewhere),
            [
                ("config", "check", "--config", str(config)),
                ("--config", str(config), "config", "show"),
            ],
        )
    assert check.returncode == 0, check.stderr
    assert check.stdout == (
        f"{config} is valid: 1 model (default), 1 provider (up), "
        "connectors enabled: admin_api, dashboard, openai_api, stripe.\n"
    )
    assert show.returncode == 0, show.stderr
    # The database sits beside the config file, wherever the command runs.
    assert f'url = "sqlite:///{tmp_path / "etc" / "var" / "hub.db"}"' in show.stdout
    assert 'api_key = "***"' in show.stdout and 'client_secret = "***"' in show.stdout
    assert "secret-value" not in show.stdout
    assert 'secret_key = "***"' in show.stdout
