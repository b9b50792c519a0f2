"""Database state is explicit: `hub serve` migrates SQLite at start (by default) or refuses an
unmigrated or older schema; /readyz and every command check the revision."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet

from hub.service import Hub
from hub.store.migrate import head_revision, upgrade
from hub.web import create_app
from tests.support.hubs import settings_from

HUB = str(Path(sys.executable).with_name("hub"))
CONFIG = """
[database]
url = "sqlite:///var/hub.db"
{database}
[server]
port = 0
[providers.demo]
type = "demo"
[models.demo]
deployments = [
  {{ provider = "demo", model = "d", input_usd_per_mtok = 1, output_usd_per_mtok = 2 }},
]
"""


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DATABASE_URL"))}
    env["HUB_SECRET_KEY"] = Fernet.generate_key().decode()
    env["HUB_CONFIG"] = str(tmp_path / "hub.toml")
    return env


@pytest.mark.timeout(120)
def test_serve_on_sqlite_migrates_at_start_and_is_ready(tmp_path: Path) -> None:
    """What `make run` runs: one process migrates, creates the demo team and its key file,
    and serves; the key works and is never printed."""
    (tmp_path / "hub.toml").write_text(CONFIG.format(database=""))
    server = subprocess.Popen(
        [HUB, "serve", "--bootstrap-demo"],
        cwd=tmp_path,
        env=environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    printed = ""
    try:
        assert server.stdout is not None
        migrated = server.stdout.readline()
        created = server.stdout.readline()
        listening = server.stdout.readline()
        assert migrated == f"Migrated the database to revision {head_revision()}.\n"
        assert created == "Created team 'demo' and its key, saved to var/demo-key (mode 600).\n"
        assert listening.startswith("UniLLM Hub listening on http://127.0.0.1:")
        base = listening.split()[4]
        try_it = server.stdout.readline()
        printed = migrated + created + listening + try_it
        assert try_it.startswith(f"Try it: curl -s {base}/v1/chat/completions -H ")
        assert "$(cat var/demo-key)" in try_it
        assert not base.endswith(":0")  # the port actually served, not the one asked for
        ready = httpx.get(f"{base}/readyz", timeout=30)
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "schema": "ok"}}
        key_file = tmp_path / "var" / "demo-key"
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        key = key_file.read_text().strip()
        chat = httpx.post(
            f"{base}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "demo", "messages": [{"role": "user", "content": "Hello!"}]},
            timeout=30,
        )
        assert chat.status_code == 200, chat.text
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
    assert server.returncode == 0, err
    assert "Traceback" not in err
    assert key not in printed + out + err  # the secret stays in its file


@pytest.mark.timeout(120)
def test_serve_refuses_when_told_not_to_migrate(tmp_path: Path) -> None:
    (tmp_path / "hub.toml").write_text(CONFIG.format(database="migrate_on_start = false"))
    done = subprocess.run(
        [HUB, "serve"],
        cwd=tmp_path,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr == "error: the database is not migrated: run `hub migrate`\n"


async def test_readyz_and_commands_name_an_older_schema(tmp_path: Path) -> None:
    settings = settings_from({}, database_url=f"sqlite:///{tmp_path}/hub.db")
    hub = Hub.open(settings)
    try:
        await upgrade(hub.engine, "0001")
        app = create_app(hub, plugins=[])
        async with TestClient(TestServer(app)) as client:
            answer = await client.get("/readyz")
            assert answer.status == 503
            body = await answer.json()
        assert body["checks"]["schema"] == (
            f"the database is at revision 0001, older than this hub's {head_revision()}: "
            "run `hub migrate`"
        )
    finally:
        await hub.close()
