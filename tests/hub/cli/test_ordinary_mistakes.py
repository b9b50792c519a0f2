"""Ordinary mistakes, each run as its own `hub` process: one line on stderr starting with
`error:`, no traceback, exit 2 for a command-line mistake and 1 for everything else."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.fakes.discord_rest import APP_ID, FakeDiscordRest
from tests.support.forked_cli import Finished, run_all

KEY = Fernet.generate_key().decode()
OTHER_KEY = Fernet.generate_key().decode()
DEMO = """
[providers.demo]
type = "demo"
[models.demo]
deployments = [
  { provider = "demo", model = "demo-1", input_usd_per_mtok = 0.5, output_usd_per_mtok = 1.5 },
]
"""
BASE = '[database]\nurl = "sqlite:///var/hub.db"\n' + DEMO
PUBLIC_KEY = "ab" * 32


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    status: int
    says: str
    env: tuple[tuple[str, str], ...] = ()


def case(name: str, *args: str, status: int = 1, says: str, **env: str) -> Case:
    return Case(name, args, status, says, tuple(env.items()))


def config_cases(folder: Path) -> Iterator[Case]:
    def bad(name: str, text: str, says: str, *command: str) -> Case:
        path = folder / f"{name}.toml"
        path.write_text(text)
        return case(name, "--config", str(path), *(command or ("team", "list")), says=says)

    base_no_db = DEMO
    yield bad(
        "unknown-key",
        BASE.replace("output_usd_per_mtok", "output_usd_per_mtoken"),
        "did you mean `output_usd_per_mtok`?",
        "migrate",
    )
    yield bad("unknown-section", BASE + "[servr]\nport = 1\n", "did you mean `server`?")
    yield bad("unknown-connector", BASE + "[connectors.slak]\n", "names no installed connector")
    yield bad(
        "typo-connector-key",
        BASE + '[connectors.slack]\nsigning_secrt = "x"\n',
        "did you mean `signing_secret`?",
        "serve",
    )
    yield bad(
        "missing-connector-key",
        BASE + '[connectors.slack]\nenabled = true\nbot_token = "xoxb-1"\n',
        "signing_secret is required",
        "serve",
    )
    yield bad(
        "discord-no-public-key",
        BASE + f'[connectors.discord]\nenabled = true\napplication_id = "{APP_ID}"\n',
        "public_key is required",
        "serve",
    )
    yield bad("port-text", BASE + '[server]\nport = "eighty"\n', "must be a valid integer")
    yield bad("port-range", BASE + "[server]\nport = 99999\n", "less than or equal to 65535")
    yield bad("bool-text", BASE + '[logging]\nlog_content = "maybe"\n', "valid boolean")
    yield bad("negative-price", BASE.replace("0.5", "-0.5"), "greater than or equal to 0")
    yield bad(
        "no-price",
        BASE.replace(", input_usd_per_mtok = 0.5", ""),
        "has no input_usd_per_mtok",
        "serve",
    )
    yield bad("no-models", '[providers.demo]\ntype = "demo"\n', "models is required")
    yield bad(
        "unset-variable",
        BASE + '[security]\noperator_key = "${NO_SUCH_VARIABLE}"\n',
        "uses ${NO_SUCH_VARIABLE}, which is not set",
    )
    yield bad("bad-toml", BASE + "[server\n", "is not valid TOML")
    yield bad("provider-type", BASE.replace('"demo"\n[models', '"gpt"\n[models'), "'openai'")
    yield bad(
        "unknown-provider",
        BASE.replace('{ provider = "demo"', '{ provider = "demoo"'),
        "names no [providers.*] table",
    )
    yield bad(
        "foo-url", '[database]\nurl = "foo://x"\n' + base_no_db, "not a supported database URL"
    )
    yield bad(
        "mysql-url",
        '[database]\nurl = "mysql://root@localhost/hub"\n' + base_no_db,
        "not a supported database URL",
        "migrate",
    )
    yield bad("redis-url", BASE + '[redis]\nurl = "localhost"\n', "is not a Redis URL")
    yield bad(
        "proxy", BASE + '[server]\ntrusted_proxies = ["lb"]\n', "is not an IP address or CIDR"
    )
    yield case(
        "missing-file", "--config", str(folder / "nope.toml"), "team", "list", says="not found"
    )
    yield case("folder", "--config", str(folder), "team", "list", says="is a folder")
    yield case("not-fernet", "team", "list", says="not a Fernet key", HUB_SECRET_KEY="nope")


def database_cases(folder: Path, postgres_url: str) -> Iterator[Case]:
    server = postgres_url.rsplit("/", 1)[0]
    unreachable = "postgresql://postgres@127.0.0.1:1/test"
    yield case(
        "pg-down", "team", "list", says="cannot reach the database", DATABASE_URL=unreachable
    )
    yield case("pg-down-migrate", "migrate", says="connection refused", DATABASE_URL=unreachable)
    yield case(
        "pg-no-database",
        "team",
        "list",
        says='database "no_such_db_x" does not exist',
        DATABASE_URL=f"{server}/no_such_db_x",
    )
    yield case(
        "pg-no-host",
        "team",
        "list",
        says="cannot resolve the host name",
        DATABASE_URL="postgresql://postgres@no-such-host.invalid/test",
    )
    yield case("pg-unmigrated", "team", "list", says="run `hub migrate`", DATABASE_URL=postgres_url)
    # PostgreSQL does not migrate at start unless told: several processes share it.
    yield case("pg-unmigrated-serve", "serve", says="run `hub migrate`", DATABASE_URL=postgres_url)
    yield case(
        "sqlite-unmigrated",
        "usage",
        says="run `hub migrate`",
        DATABASE_URL=f"sqlite:///{folder}/empty.db",
    )


def serve_cases(busy_port: int) -> Iterator[Case]:
    yield case("port-in-use", "serve", "--port", str(busy_port), says="already in use")
    yield case("port-99999", "serve", "--port", "99999", status=2, says="not in the range")
    yield case("no-such-address", "serve", "--host", "203.0.113.7", says="has no address")
    yield case("no-such-host", "serve", "--host", "no-such-host.invalid", says="cannot resolve")


def value_cases(fake_discord: str, folder: Path) -> Iterator[Case]:
    for amount, says in (
        ("nan", "not a finite amount"),
        ("inf", "not a finite amount"),
        ("1e20", "more than 1,000,000,000 USD"),
        ("-5", "is negative"),
        ("five", "not an amount in USD"),
    ):
        yield case(
            f"budget-{amount}",
            "team",
            "create",
            "x",
            "--monthly-budget-usd",
            amount,
            status=2,
            says=says,
        )
    yield case(
        "quota-decimals",
        "quota",
        "set",
        "--team",
        "acme",
        "--usd",
        "0.0000001",
        status=2,
        says="more than six decimals",
    )
    yield case(
        "tokens-negative",
        "quota",
        "set",
        "--team",
        "acme",
        "--tokens",
        "-1",
        status=2,
        says="not in the range",
    )
    yield case("unknown-command", "tema", "list", status=2, says="No such command 'tema'")
    yield case("unknown-option", "team", "list", "--colour", status=2, says="No such option")
    yield case("missing-argument", "team", "create", status=2, says="Missing argument 'NAME'")
    yield case("bad-date", "usage", "--since", "2026-13-01", status=2, says="'--since'")
    yield case("no-team", "usage", "--team", "nobody", says="No team named 'nobody'")
    yield case("no-model", "ask", "hi", "--team", "acme", "--model", "gpt-9", says="Unknown model")
    discord = folder / "discord.toml"
    discord.write_text(
        BASE
        + f'[connectors.discord]\napplication_id = "{APP_ID}"\nbot_token = "wrong-token"\n'
        + f'api_base_url = "{fake_discord}"\n'
    )
    yield case(
        "discord-bad-token",
        "--config",
        str(discord),
        "discord",
        "sync-commands",
        says="Discord refused the bot token",
    )
    offline = folder / "discord-offline.toml"
    offline.write_text(
        BASE + '[connectors.discord]\napplication_id = "1"\nbot_token = "t"\n'
        'api_base_url = "http://127.0.0.1:1/api/v10"\n'
    )
    yield case(
        "discord-offline",
        "--config",
        str(offline),
        "discord",
        "sync-commands",
        says="cannot reach http://127.0.0.1:1/api/v10",
    )
    yield case("discord-no-app-id", "discord", "sync-commands", says="application_id is required")
    yield case(
        "slack-no-oauth", "slack", "install-link", "--team", "acme", says="install links need"
    )
    yield case(
        "changed-secret-key", "rotate-secrets", says="cannot be decrypted", HUB_SECRET_KEY=OTHER_KEY
    )


def check(result: Finished, expected: Case) -> list[str]:
    problems = []
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if result.returncode != expected.status:
        problems.append(f"exit {result.returncode}, wanted {expected.status}")
    if "Traceback" in result.stderr + result.stdout:
        problems.append("a traceback")
    if len(lines) != 1 or not lines[0].startswith("error: "):
        problems.append(f"{len(lines)} lines, not one `error:` line")
    if expected.says not in result.stderr:
        problems.append(f"no {expected.says!r}")
    return [f"{expected.name}: {p}\n  stderr: {result.stderr.strip()!r}" for p in problems]


@pytest.mark.timeout(240)
async def test_ordinary_mistakes_are_one_line(tmp_path: Path, postgres_url: str) -> None:
    (tmp_path / "hub.toml").write_text(BASE)
    env = {
        "HUB_SECRET_KEY": KEY,
        "HUB_CONFIG": str(tmp_path / "hub.toml"),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    setup = [
        ("migrate",),
        ("team", "create", "acme"),
        ("webhook", "create", "--team", "acme"),  # a secret stored under KEY
    ]
    for done in await asyncio.to_thread(run_all, setup, cwd=tmp_path, env=env, parallel=1):
        assert done.returncode == 0, done
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    async with FakeDiscordRest() as fake:
        cases = [
            *config_cases(tmp_path),
            *database_cases(tmp_path, postgres_url.replace("+asyncpg", "")),
            *serve_cases(busy.getsockname()[1]),
            *value_cases(fake.base_url, tmp_path),
        ]
        results = await asyncio.to_thread(
            run_all,
            [c.args for c in cases],
            cwd=tmp_path,
            env=env,
            envs=[dict(c.env) for c in cases],
        )
    busy.close()
    assert len(cases) >= 40
    problems = [p for c, r in zip(cases, results, strict=True) for p in check(r, c)]
    assert problems == [], "\n".join(problems)


async def test_debug_shows_the_traceback_and_version_answers(tmp_path: Path) -> None:
    (tmp_path / "hub.toml").write_text(BASE)
    env = {"HUB_SECRET_KEY": "not-a-key", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    quiet, loud, version = await asyncio.to_thread(
        run_all,
        [("team", "list"), ("team", "list", "--debug"), ("--version",)],
        cwd=tmp_path,
        env={**env, "HUB_CONFIG": str(tmp_path / "hub.toml")},
    )
    assert quiet.returncode == loud.returncode == 1
    assert "Traceback" not in quiet.stderr and "Traceback" in loud.stderr
    assert loud.stderr.strip().splitlines()[-1] == quiet.stderr.strip()
    assert (version.returncode, version.stdout) == (0, "hub 0.1.0\n")
