"""`hub webhook ...` and `hub subscription ...` against a config file and a SQLite database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from connectors.webhooks.cli import webhook
from hub.cli.admin import team
from hub.cli.context import CliContext
from hub.cli.serve import migrate
from hub.cli.subscriptions import subscription


def make_root(config: Path) -> click.Group:
    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = CliContext(str(config))

    for command in (migrate, team, webhook, subscription):
        root.add_command(command)
    return root


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., str]:
    config = tmp_path / "hub.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/cli.db"\n'
        f'[security]\nsecret_key = "{Fernet.generate_key().decode()}"\n'
        "[webhooks]\nallow_private_targets = true\n"
        '[providers.demo]\ntype = "demo"\n'
        '[models.demo]\ndeployments = [{ provider = "demo", model = "demo-1", '
        "input_usd_per_mtok = 0.5, output_usd_per_mtok = 1.5 }]\n"
        "[connectors.webhooks]\nrotation_grace_hours = 2\n"
    )
    root, runner = make_root(config), CliRunner()

    def invoke(*args: str, ok: bool = True) -> str:
        result = runner.invoke(root, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code != 0
        return result.output

    invoke("migrate")
    invoke("team", "create", "acme")
    return invoke


def test_webhook_lifecycle(run: Callable[..., str]) -> None:
    invoke = run
    created = json.loads(invoke("webhook", "create", "--team", "acme", "--name", "ci", "--json"))
    assert created["url"] == f"/hooks/{created['id']}"
    assert created["secret"].startswith("whsec_")
    listed = invoke("webhook", "list")
    assert created["id"] in listed and created["secret"] not in listed
    rotated = invoke("webhook", "rotate-secret", created["id"])
    assert "whsec_" in rotated and created["secret"] not in rotated
    assert "keeps verifying for 2 hours" in rotated
    assert "old secret valid until" in invoke("webhook", "list")
    assert "Unknown model 'nope'" in invoke(
        "webhook", "create", "--team", "acme", "--model", "nope", ok=False
    )
    invoke("webhook", "delete", created["id"])
    assert created["id"] not in invoke("webhook", "list")
    assert "No webhook" in invoke("webhook", "delete", created["id"], ok=False)


def test_subscription_lifecycle(run: Callable[..., str]) -> None:
    invoke = run
    created = json.loads(
        invoke(
            "subscription",
            "create",
            "--team",
            "acme",
            "--url",
            "http://127.0.0.1:9/x",
            "--events",
            "completion.created,budget.threshold",
            "--json",
        )
    )
    assert created["events"] == ["completion.created", "budget.threshold"]
    assert created["secret"].startswith("whsec_")
    listed = invoke("subscription", "list", "--team", "acme")
    assert created["id"] in listed and created["secret"] not in listed
    assert "No delivery attempts yet" in invoke("subscription", "deliveries", created["id"])
    assert "Unknown event type 'nope'" in invoke(
        "subscription",
        "create",
        "--team",
        "acme",
        "--url",
        "http://127.0.0.1:9/x",
        "--events",
        "nope",
        ok=False,
    )
    invoke("subscription", "delete", created["id"])
    assert "No subscriptions yet" in invoke("subscription", "list")
