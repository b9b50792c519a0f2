"""The CLI cleaned up (#12 point 7), each command a real `hub` process: team rename and
archive (keys stop working, the ledger stays), already-expired keys and contradictory flags
refused in one line, a header on every table, `[server] public_url` in printed URLs, and an
audit log that redacts secrets by name, not by substring."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from hub.audit import REDACTED, redact
from hub.config import load_settings
from hub.errors import KeyRevoked
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_writer import record_usage
from hub.model import Caller, Origin, Usage
from hub.service import Hub
from tests.support.forked_cli import Finished, run_all

KEY = Fernet.generate_key().decode()
CONFIG = """
[server]
public_url = "https://hub.example.com/"
[database]
url = "sqlite:///hub.db"
[providers.demo]
type = "demo"
[models.demo]
deployments = [
  { provider = "demo", model = "demo-1", input_usd_per_mtok = 0.5, output_usd_per_mtok = 1.5 },
]
[connectors.webhooks]
enabled = true
[connectors.slack]
enabled = true
signing_secret = "s"
client_id = "1.2"
client_secret = "cs"
"""


def run(tmp_path: Path, *cases: tuple[str, ...], parallel: int = 4) -> list[Finished]:
    env = {
        "HUB_SECRET_KEY": KEY,
        "HUB_CONFIG": str(tmp_path / "hub.toml"),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    return run_all(list(cases), cwd=tmp_path, env=env, parallel=parallel)


def ok(result: Finished) -> str:
    assert (result.returncode, result.stderr) == (0, ""), result
    return result.stdout


def one_error(result: Finished, status: int, says: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == status, result
    assert len(lines) == 1 and lines[0].startswith("error: "), result
    assert says in lines[0], result
    assert "Traceback" not in result.stderr


def header(result: Finished) -> list[str]:
    return ok(result).splitlines()[0].split()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated and seeded hub folder for the module; each test works on a copy."""
    tmp_path = tmp_path_factory.mktemp("seeded")
    (tmp_path / "hub.toml").write_text(CONFIG)
    setup = [
        ("migrate",),
        ("team", "create", "acme"),
        ("key", "create", "--team", "acme", "--name", "ci", "--json"),
        ("member", "add", "ann", "--team", "acme"),
        ("quota", "set", "--team", "acme", "--tokens", "100000"),
        ("webhook", "create", "--team", "acme", "--name", "ci", "--json"),
        ("bind", "slack", "T0001", "--team", "acme"),
    ]
    for done in run(tmp_path, *setup, parallel=1):
        ok(done)
    return tmp_path


@pytest.fixture
def hub_dir(seeded: Path, tmp_path: Path) -> Path:
    target = tmp_path / "hub"
    shutil.copytree(seeded, target)
    return target


async def test_every_listing_has_a_header_row(hub_dir: Path) -> None:
    results = await asyncio.to_thread(
        run,
        hub_dir,
        ("team", "list"),
        ("key", "list"),
        ("member", "list", "--team", "acme"),
        ("webhook", "list"),
        ("audit", "--team", "acme"),
        ("quota", "list", "--team", "acme"),
        ("limit", "list", "--team", "acme"),
        ("prices", "list", "--model", "gpt-4o"),
    )
    teams, keys, members, hooks, audit, quotas, limits, prices = results
    assert header(teams) == ["id", "name", "state", "policy", "team", "limits"]
    assert ok(teams).splitlines()[1].split()[:4] == ["1", "acme", "active", "open"]
    assert header(keys)[:6] == ["id", "team", "prefix", "name", "role", "state"]
    assert header(members) == ["id", "name", "role", "two-factor", "linked", "accounts"]
    assert header(hooks)[:5] == ["id", "team", "name", "model", "url"]
    assert header(audit)[:3] == ["time", "(UTC)", "actor"]
    assert header(quotas)[:2] == ["scope", "window"]
    assert header(limits)[:2] == ["scope", "requests/min"]
    assert header(prices)[:2] == ["model", "from"]
    # The webhook URL is whole: [server] public_url, without its trailing slash.
    assert "https://hub.example.com/hooks/hk_" in ok(hooks)


async def test_public_url_in_printed_links(hub_dir: Path) -> None:
    created, link = await asyncio.to_thread(
        run,
        hub_dir,
        ("webhook", "create", "--team", "acme", "--json"),
        ("slack", "install-link", "--team", "acme"),
    )
    hook = json.loads(ok(created))
    assert hook["url"] == f"https://hub.example.com/hooks/{hook['id']}"
    assert ok(link).startswith("https://hub.example.com/slack/install?")


async def test_expired_keys_and_contradictory_flags_are_refused(hub_dir: Path) -> None:
    results = await asyncio.to_thread(
        run,
        hub_dir,
        ("key", "create", "--team", "acme", "--expires", "2020-01-01"),
        ("key", "create", "--team", "acme", "--expires", "0d"),
        ("key", "restrict", "1", "--allow-ip", "10.0.0.0/8", "--any-ip"),
        ("key", "restrict", "1", "--expires", "30d", "--never-expires"),
        ("team", "notify", "acme", "--off", "--platform", "slack", "--channel", "C1"),
        ("quota", "set", "--team", "acme", "--usd", "5", "--clear"),
        ("limit", "set", "--team", "acme", "--rpm", "5", "--clear"),
        ("usage", "--team", "acme", "--json", "--csv"),
        ("usage", "--team", "acme", "--month", "2026-11", "--since", "2026-11-02"),
        ("quota", "set", "--team", "acme", "--member", "ann", "--key", "1", "--usd", "1"),
        ("key", "list", "--team", "acme"),
    )
    *refusals, keys = results
    one_error(refusals[0], 1, "The expiry 2020-01-01 00:00 UTC is already past")
    one_error(refusals[1], 1, "is already past")
    for refused, flags in zip(
        refusals[2:],
        (
            "--allow-ip or --any-ip, not both",
            "--expires or --never-expires, not both",
            "give --off, or --platform and --channel, not both",
            "give --clear, or --usd/--tokens, not both",
            "give --clear, or --rpm/--tpm, not both",
            "give --json or --csv, not both",
            "give --month, or --since/--until, not both",
            "give --member or --key, not both",
        ),
        strict=True,
    ):
        one_error(refused, 2, flags)
    # Nothing was created or changed by the refusals: one key, still without an expiry.
    rows = ok(keys).splitlines()[1:]
    assert len(rows) == 1 and rows[0].split()[-1] == "never"


async def test_team_rename_and_archive(hub_dir: Path) -> None:
    settings = load_settings(hub_dir / "hub.toml", env={"HUB_SECRET_KEY": KEY})
    hub = Hub.open(settings)
    try:
        team = await hub.teams.get("acme")
        issued = await hub.keys.create(team, name="bot")
        async with hub.sessions.begin() as session:
            entry = UsageEntry(
                request_id="r1",
                caller=Caller(team.id, "acme", key_id=issued.id),
                origin=Origin("openai_api"),
                alias="demo",
                deployment="demo/demo-1",
                usage=Usage(prompt_tokens=1_000, completion_tokens=1_000),
                cost_micros=2_000,
                latency_ms=1,
                ttft_ms=1,
                status="ok",
            )
            await record_usage(session, entry, now=datetime.now(UTC))
    finally:
        await hub.close()
    renamed, taken = await asyncio.to_thread(
        run,
        hub_dir,
        ("team", "rename", "acme", "acme-corp"),
        ("team", "create", "other"),
        parallel=1,
    )
    assert ok(renamed) == "Renamed team 'acme' to 'acme-corp'.\n"
    ok(taken)
    (
        clash,
        archived,
        again,
        listed,
        usage,
        new_key,
        bind,
        hook,
        audit,
    ) = await asyncio.to_thread(
        run,
        hub_dir,
        ("team", "rename", "acme-corp", "other"),
        ("team", "archive", "acme-corp", "--yes"),
        ("team", "archive", "acme-corp", "--yes"),
        ("team", "list"),
        ("usage", "--team", "acme-corp", "--json"),
        ("key", "create", "--team", "acme-corp"),
        ("bind", "discord", "42", "--team", "acme-corp"),
        ("webhook", "create", "--team", "acme-corp"),
        ("audit", "--team", "acme-corp", "--json"),
        parallel=1,
    )
    one_error(clash, 1, "A team named 'other' already exists.")
    assert ok(archived) == (
        "Archived team 'acme-corp': 2 key(s) revoked, 1 binding(s) removed, 0 subscription(s) "
        "disabled; its usage and audit log are kept.\n"
    )
    one_error(again, 1, "Team 'acme-corp' is already archived.")
    assert ok(listed).splitlines()[1].split()[1:3] == ["acme-corp", "archived"]
    totals = json.loads(ok(usage))
    assert (totals["requests"], totals["total_tokens"], totals["cost_usd"]) == (1, 2_000, 0.002)
    for refused in (new_key, bind, hook):
        one_error(refused, 1, "Team 'acme-corp' is archived")
    actions = [json.loads(line)["action"] for line in ok(audit).splitlines()]
    assert actions[-2:] == ["team.rename", "team.archive"]
    hub = Hub.open(settings)
    try:
        with pytest.raises(KeyRevoked):
            await hub.keys.authenticate(issued.key)
        assert await hub.bindings.caller_for("slack", "T0001") is None
    finally:
        await hub.close()


async def test_audit_keeps_token_quotas_and_redacts_secrets_by_name(hub_dir: Path) -> None:
    (audit,) = await asyncio.to_thread(run, hub_dir, ("audit", "--team", "acme", "--json"))
    quota = next(json.loads(line) for line in ok(audit).splitlines() if '"quota.set"' in line)
    assert quota["after"] == {"cost_limit_micros": None, "token_limit": 100000}
    assert redact(
        {
            "token_limit": 5,
            "tokens": 7,
            "tokenizer": "x",
            "bot_token": "xoxb-1",
            "secret_hash": "ab",
            "nested": {"client_secret": "cs", "name": "n"},
            "api_key": None,
        }
    ) == {
        "token_limit": 5,
        "tokens": 7,
        "tokenizer": "x",
        "bot_token": REDACTED,
        "secret_hash": REDACTED,
        "nested": {"client_secret": REDACTED, "name": "n"},
        "api_key": None,
    }
