"""`hub alert list | check | history | test`, run through the real command group."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from cryptography.fernet import Fernet

from hub.cli.main import cli


def test_alert_commands(tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/hub.db"\n'
        '[providers.demo]\ntype = "demo"\n'
        '[models.demo]\ndeployments = [{ provider = "demo", model = "demo-1", '
        "input_usd_per_mtok = 0.5, output_usd_per_mtok = 1.5 }]\n"
        '[[alerts]]\nname = "backlog"\nkind = "outbox_backlog"\nthreshold = 0\n'
        'severity = "info"\nteams = ["ops"]\n'
    )
    env = {"HUB_SECRET_KEY": Fernet.generate_key().decode()}
    runner = CliRunner()

    def hub(*args: str) -> str:
        done = runner.invoke(cli, ["--config", str(config), *args], env=env)
        assert done.exit_code == 0, done.output
        return done.output

    hub("migrate")
    hub("team", "create", "ops")
    assert json.loads(hub("alert", "list", "--json"))[0]["firing"] == []
    assert hub("alert", "check") == (
        "fired: backlog (outbox): 0 events and deliveries are waiting in the outbox (alert at 0).\n"
    )
    assert hub("alert", "check") == "No change.\n"
    listed = json.loads(hub("alert", "list", "--json"))
    assert listed[0]["name"] == "backlog" and listed[0]["firing"] == ["outbox"]
    header, incident = hub("alert", "history").splitlines()
    assert header.split()[:4] == ["id", "rule", "severity", "subject"]
    assert incident.split()[:4] == ["#1", "backlog", "info", "outbox"]
    assert hub("alert", "test", "backlog") == "Sent a test of 'backlog' to ops.\n"
