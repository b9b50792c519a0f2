"""The `hub` command as a user runs it: a process per command, a config file, SQLite."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest
from cryptography.fernet import Fernet

from hub.service import Hub
from tests.support.forked_cli import Finished, run_all
from tests.support.hubs import settings_from

HUB = str(Path(sys.executable).with_name("hub"))
# Each test chains real `hub` processes; on a busy 2-core machine one start costs seconds.
pytestmark = pytest.mark.timeout(240)


class Cli:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.config = workdir / "hub.toml"
        self.config.write_text(
            '[database]\nurl = "sqlite:///var/cli.db"\n'
            '[security]\nsecret_key_file = "var/secret-key"\n'
            '[providers.demo]\ntype = "demo"\n'
            "[models.demo]\n"
            'deployments = [{ provider = "demo", model = "demo-1", '
            "input_usd_per_mtok = 0.5, output_usd_per_mtok = 1.5 }]\n"
        )
        (workdir / "var").mkdir()
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DATABASE_URL"))
        }
        self.env["HUB_SECRET_KEY"] = Fernet.generate_key().decode()

    def __call__(self, *args: str, ok: bool = True) -> Finished:
        # A forked `hub` process each (tests/support/forked_cli.py): its own exit status,
        # output and environment, without a second of start-up per command.
        [done] = run_all([("--config", str(self.config), *args)], cwd=self.workdir, env=self.env)
        if ok:
            assert done.returncode == 0, done.stderr
        return done


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    runner = Cli(tmp_path_factory.mktemp("cli"))
    assert "up to date" in runner("migrate").stdout
    return runner


def test_team_key_ask_usage_flow(cli: Cli) -> None:
    assert (
        "Created team 'acme'"
        in cli(
            "team", "create", "acme", "--monthly-budget-usd", "5", "--monthly-token-quota", "100000"
        ).stdout
    )
    listed = cli("team", "list").stdout
    assert "acme" in listed and "month budget $5.00" in listed and "month tokens 100,000" in listed

    created = json.loads(cli("key", "create", "--team", "acme", "--name", "ci", "--json").stdout)
    assert set(created) >= {"id", "key"}
    assert created["key"].startswith("uh-") and created["name"] == "ci"
    keys = cli("key", "list", "--team", "acme").stdout
    assert created["prefix"] in keys and created["key"] not in keys

    asked = cli("ask", "What is the hub?", "--team", "acme")
    assert asked.stdout.startswith("[demo provider] This is a canned answer")
    assert "What is the hub?" in asked.stdout
    assert "demo via demo/demo-1" in asked.stderr

    usage = json.loads(cli("usage", "--team", "acme", "--json").stdout)
    assert usage["requests"] == 1
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    # Demo prices: $0.50 and $1.50 per million tokens, rounded up to the micro-dollar.
    expected = -(
        -(usage["prompt_tokens"] * 500_000 + usage["completion_tokens"] * 1_500_000) // 10**6
    )
    assert usage["cost_usd"] == expected / 1_000_000

    by_user = json.loads(cli("usage", "--team", "acme", "--by", "connector", "--json").stdout)
    assert [g["key"] for g in by_user["groups"]] == ["cli"]
    csv_out = cli("usage", "--team", "acme", "--by", "model", "--csv").stdout.splitlines()
    assert csv_out[0] == "model,requests,prompt_tokens,completion_tokens,cost_usd"
    assert csv_out[1].startswith("demo,1,")
    by_day = json.loads(cli("usage", "--by", "day", "--json").stdout)
    assert len(by_day["groups"]) == 1 and by_day["groups"][0]["requests"] == 1

    revoked = cli("key", "revoke", str(created["id"])).stdout
    assert f"Revoked key {created['id']}" in revoked
    assert "revoked" in cli("key", "list").stdout


def test_errors_are_one_line_and_exit_nonzero(cli: Cli) -> None:
    # Its own team: the module's hub is shared, and tests run alone or in any order (xdist).
    cli("team", "create", "globex")
    missing = cli("usage", "--team", "nobody", ok=False)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == "error: No team named 'nobody'."
    unknown_model = cli("ask", "x", "--team", "globex", "--model", "gpt-9", ok=False)
    assert unknown_model.returncode == 1
    assert "Unknown model 'gpt-9'. Available models: demo." in unknown_model.stderr
    duplicate = cli("team", "create", "globex", ok=False)
    assert "already exists" in duplicate.stderr


def test_bootstrap_demo_writes_key_file_once(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli("migrate")
    first = cli("bootstrap-demo").stdout
    key_file = tmp_path / "var" / "demo-key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    key = key_file.read_text().strip()
    assert first == "Created team 'demo' and its key, saved to var/demo-key (mode 600).\n"
    second = cli("bootstrap-demo").stdout
    assert second == "Demo key: in var/demo-key (`hub serve` prints how to try it).\n"
    assert key not in first + second  # the secret stays in its file
    assert "demo" in cli("team", "list").stdout


def test_refuses_to_run_without_secret_key(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    del cli.env["HUB_SECRET_KEY"]
    done = cli("migrate", ok=False)
    assert done.returncode == 1
    assert "No secret key: set HUB_SECRET_KEY" in done.stderr


def test_governance_commands_are_audited_as_the_cli_user(cli: Cli) -> None:
    cli("team", "create", "initech")
    assert (
        "Added ann (admin)"
        in cli("member", "add", "ann", "--team", "initech", "--role", "admin").stdout
    )
    cli(
        "member",
        "link",
        "ann",
        "--team",
        "initech",
        "--platform",
        "slack",
        "--user",
        "U_ANN",
        "--workspace",
        "T1",
    )
    assert "slack:T1/U_ANN" in cli("member", "list", "--team", "initech").stdout
    out = cli(
        "quota", "set", "--team", "initech", "--member", "ann", "--window", "day", "--usd", "2"
    ).stdout
    assert out.strip() == "member ann: daily $2.00, no token limit."
    listed = cli("quota", "list", "--team", "initech").stdout.splitlines()
    assert listed[0].split() == ["scope", "window", "budget", "tokens"]
    assert listed[1].split() == ["member", "ann", "day", "$2.00", "-"]
    created = json.loads(
        cli("key", "create", "--team", "initech", "--json", "--expires", "30d").stdout
    )
    rotated = json.loads(cli("key", "rotate", str(created["id"]), "--grace", "1h", "--json").stdout)
    assert rotated["id"] == created["id"] and rotated["key"] != created["key"]
    assert rotated["previous_valid_until"] is not None
    done = subprocess.run(
        [
            HUB,
            "--config",
            str(cli.config),
            "provider-key",
            "set",
            "--team",
            "initech",
            "--provider",
            "demo",
        ],
        input="sk-own-provider-key\n",
        cwd=cli.workdir,
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    listed = cli("provider-key", "list", "--team", "initech").stdout.splitlines()
    assert [line.split()[0] for line in listed] == ["provider", "demo"]
    lines = [json.loads(x) for x in cli("audit", "--team", "initech", "--json").stdout.splitlines()]
    assert [e["action"] for e in lines] == [
        "team.create",
        "member.add",
        "member.link",
        "quota.set",
        "key.create",
        "key.rotate",
        "provider_key.set",
    ]
    assert {e["actor"].split(":")[0] for e in lines} == {"cli"}
    everything = json.dumps(lines)
    assert "sk-own-provider-key" not in everything
    assert created["key"] not in everything and rotated["key"] not in everything


def test_quota_and_limit_updates_change_only_what_is_given(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli("migrate")
    cli("team", "create", "acme")
    cli("quota", "set", "--team", "acme", "--usd", "20")
    out = cli("quota", "set", "--team", "acme", "--tokens", "1000").stdout
    assert out == "team 'acme': monthly $20.00, 1,000 tokens.\n"  # the budget stayed
    assert cli("quota", "set", "--team", "acme", "--clear").stdout == (
        "team 'acme': monthly no cost limit, no token limit.\n"
    )
    assert cli("quota", "list", "--team", "acme").stdout.splitlines()[1:] == []
    nothing = cli("limit", "set", "--team", "acme", ok=False)
    assert (nothing.returncode, nothing.stderr) == (
        2,
        "error: give --rpm, --tpm or --clear (see `hub limit set --help`)\n",
    )
    both = cli("quota", "set", "--team", "acme", "--usd", "1", "--clear", ok=False)
    assert both.returncode == 2 and "not both" in both.stderr
    cli("limit", "set", "--team", "acme", "--rpm", "60")
    assert cli("limit", "set", "--team", "acme", "--tpm", "9000").stdout == (
        "team 'acme': 60 requests/min, 9000 tokens/min.\n"
    )
    rows = cli("limit", "list", "--team", "acme").stdout.splitlines()
    assert rows[0].split() == ["scope", "requests/min", "tokens/min", "source"]
    assert rows[1].split() == ["team", "acme", "60", "9000", "own"]
    cli("limit", "set", "--team", "acme", "--clear")
    assert cli("limit", "list", "--team", "acme").stdout.splitlines()[1].split() == [
        "team",
        "acme",
        "unlimited",
        "unlimited",
        "default",
    ]


def test_two_factor_rule_listing_and_reset_from_the_cli(cli: Cli) -> None:
    cli("team", "create", "hooli")
    cli("member", "add", "gil", "--team", "hooli")
    out = cli("team", "two-factor", "hooli", "required").stdout
    assert out == "Team 'hooli': two-factor sign-in to the dashboard is required.\n"

    async def enrol() -> None:  # as the dashboard does (a code needs the phone)
        settings = settings_from(
            {"security": {"secret_key": cli.env["HUB_SECRET_KEY"]}},
            database_url=f"sqlite+aiosqlite:///{cli.workdir}/var/cli.db",
        )
        hub = Hub.open(settings)
        try:
            gil = await hub.members.get(await hub.teams.get("hooli"), "gil")
            secret = (await hub.two_factor.begin(gil)).secret
            await hub.two_factor.confirm(gil, pyotp.TOTP(secret).now())
        finally:
            await hub.close()

    asyncio.run(enrol())
    listed = cli("member", "list", "--team", "hooli").stdout.splitlines()
    assert listed[0].split()[:4] == ["id", "name", "role", "two-factor"]
    assert listed[1].split()[1:4] == ["gil", "member", "on"]
    reset = cli("member", "two-factor-reset", "gil", "--team", "hooli").stdout
    assert reset == "Removed gil's two-factor sign-in; their recovery codes no longer work.\n"
    again = cli("member", "two-factor-reset", "gil", "--team", "hooli").stdout
    assert again == "gil has no two-factor sign-in to reset.\n"
    lines = [json.loads(x) for x in cli("audit", "--team", "hooli", "--json").stdout.splitlines()]
    changes = [(e["action"], e["actor"].split(":")[0], e["after"]) for e in lines[2:]]
    assert changes == [
        ("team.two_factor", "cli", {"required": True}),
        ("member.two_factor", "system", {"enrolled": True}),  # in-process, not through the CLI
        ("member.two_factor", "cli", {"enrolled": False}),
    ]
