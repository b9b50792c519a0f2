"""The production shape: compose.yaml is well formed and runs the Procfile's commands, and
those commands run as processes against the real PostgreSQL and Redis with deploy/hub.toml.

The image is built and run by hand with podman (minutes: not in `make test`; docs/deploy.md
has the commands and what they exercised); nginx is not started, so the round-robin proxy is
checked as configuration only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from cryptography.fernet import Fernet

from hub.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
HUB = str(Path(sys.executable).with_name("hub"))
HUB_SERVICES = {"migrate", "web1", "web2", "worker", "discord"}


def procfile() -> dict[str, list[str]]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        entries[name.strip()] = command.split()
    return entries


def test_compose_has_the_production_shape() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "proxy", *HUB_SERVICES}
    processes = procfile()
    web = [p.replace("$PORT", "8080") for p in processes["web"]]
    for name in ("web1", "web2"):
        assert ["hub", *services[name]["command"]] == web
    assert ["hub", *services["worker"]["command"]] == processes["worker"]
    assert ["hub", *services["discord"]["command"]] == processes["discord"]
    assert services["migrate"]["command"] == ["migrate"]
    for name in HUB_SERVICES - {"migrate"}:  # migrations run once, before any hub process
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert services[name]["environment"]["HUB_CONFIG"] == "/app/deploy/hub.toml"
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server web1:8080;" in nginx and "server web2:8080;" in nginx
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER hub" in dockerfile and 'ENTRYPOINT ["hub"]' in dockerfile
    # A local base can stand in for python:3.11-slim; the venv is copied whole, #! lines intact.
    assert "ARG BASE=python:3.11-slim" in dockerfile and "FROM ${BASE}" in dockerfile
    assert "python3 -m venv /opt/hub" in dockerfile
    assert "COPY --from=build /opt/hub /opt/hub" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var", "node_modules", "test-output"} <= set(ignored)


def test_the_deploy_config_validates() -> None:
    settings = load_settings(
        ROOT / "deploy" / "hub.toml",
        env={
            "DATABASE_URL": "postgresql://hub:pw@postgres:5432/hub",
            "REDIS_URL": "redis://redis:6379/0",
            "HUB_SECRET_KEY": Fernet.generate_key().decode(),
        },
    )
    assert settings.database.migrates_on_start is False
    assert settings.redis_url == "redis://redis:6379/0"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(240)
def test_each_service_command_runs_against_postgres_and_redis(
    tmp_path: Path, postgres_url: str
) -> None:
    redis_url = os.environ.get("HUB_TEST_REDIS_URL", "")
    if not redis_url:
        pytest.skip("HUB_TEST_REDIS_URL is not set")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DATABASE_URL"))}
    env |= {
        "HUB_CONFIG": str(ROOT / "deploy" / "hub.toml"),
        "DATABASE_URL": postgres_url.replace("+asyncpg", ""),
        "REDIS_URL": redis_url,
        "HUB_REDIS_PREFIX": f"deploy-test-{os.getpid()}",
        "HUB_SECRET_KEY": Fernet.generate_key().decode(),
    }

    def start(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [HUB, *args],
            cwd=tmp_path,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    refused = subprocess.run(
        [HUB, "serve", "--port", "0"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert refused.returncode == 1 and "run `hub migrate`" in refused.stderr
    migrated = subprocess.run(
        [HUB, "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert migrated.returncode == 0, migrated.stderr
    processes = [start("serve", "--host", "127.0.0.1", "--port", "0") for _ in range(2)]
    processes.append(start("worker"))
    try:
        for web in processes[:2]:
            assert web.stdout is not None
            line = web.stdout.readline()
            assert line.startswith("UniLLM Hub listening on http://127.0.0.1:"), line
            ready = httpx.get(f"{line.split()[4]}/readyz", timeout=30)
            assert ready.json() == {
                "status": "ready",
                "checks": {"database": "ok", "schema": "ok", "redis": "ok"},
            }
        worker = processes[2]
        assert worker.stdout is not None
        assert worker.stdout.readline() == "UniLLM Hub worker: delivering events.\n"
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            _, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
