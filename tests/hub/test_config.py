"""Settings from TOML and the environment: typed, frozen, and every mistake named."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from hub.config import (
    ConfigError,
    DeploymentSettings,
    Prices,
    async_database_url,
    load_settings,
    parse_settings,
)

ROOT = Path(__file__).resolve().parents[2]
KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()
DEPLOYMENT = {"provider": "p", "model": "m", "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.6}
MODEL = {"deployments": [DEPLOYMENT]}
MINIMAL: dict[str, Any] = {"providers": {"p": {"type": "demo"}}, "models": {"m": MODEL}}


def problem(data: dict[str, Any], env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_settings(data, env=env or {}, source="hub.toml")
    return caught.value


def with_(**tables: Any) -> dict[str, Any]:
    return {**MINIMAL, **tables}


def test_environment_references_and_overrides() -> None:
    settings = parse_settings(
        {
            "providers": {
                "p": {
                    "type": "openai",
                    "api_key": "${OPENAI_API_KEY}",
                    "base_url": "${BASE:-http://localhost:9/v1}",
                }
            },
            "models": {"first": MODEL, "default": MODEL},
        },
        env={
            "OPENAI_API_KEY": "sk-x",
            "DATABASE_URL": "postgresql://u@h/db",
            "HUB_SECRET_KEY": f"{KEY_A},{KEY_B}",
        },
    )
    provider = settings.providers["p"]
    assert (provider.name, provider.api_key, provider.base_url) == (
        "p",
        "sk-x",
        "http://localhost:9/v1",
    )
    assert "sk-x" not in repr(provider)
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.security.secret_keys == (KEY_A, KEY_B)
    assert settings.default_alias == "default"
    deployment = settings.models["first"].deployments[0]
    assert (deployment.input_micros_per_mtok, deployment.output_micros_per_mtok) == (
        150_000,
        600_000,
    )
    # 1234 * 0.15 + 567 * 0.60 = 185.1 + 340.2 = 525.3 micro-USD, rounded up once
    assert deployment.cost_micros(1234, 567) == 526


def test_substituted_text_is_typed_after_substitution() -> None:
    settings = parse_settings(
        with_(
            server={"port": "${PORT:-9090}"},
            logging={"log_content": "${LOG_CONTENT:-false}"},
            webhooks={"allow_private_targets": "${PRIVATE}"},
            connectors={"slack": {"enabled": "${SLACK_ON:-false}"}},
        ),
        env={"PRIVATE": "false", "LOG_CONTENT": ""},  # `:-` takes the default when empty too
    )
    assert settings.server.port == 9090
    assert settings.logging.log_content is False
    assert settings.webhooks.allow_private_targets is False
    slack = settings.connectors["slack"]
    assert not slack.enabled


def test_an_unset_variable_without_default_is_named() -> None:
    error = problem(with_(providers={"p": {"type": "openai", "api_key": "${OPENAI_KEY}"}}))
    assert str(error) == (
        "hub.toml: providers.p.api_key uses ${OPENAI_KEY}, which is not set: export "
        "OPENAI_KEY, or write ${OPENAI_KEY:-} to allow it to be empty"
    )
    assert parse_settings(with_(server={"host": "$${HOST}"}), env={}).server.host == "${HOST}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            with_(models={"m": {"deployments": [{**DEPLOYMENT, "input_usd_per_mtoken": 1}]}}),
            "hub.toml: models.m.deployments[0].input_usd_per_mtoken is not a setting; "
            "did you mean `input_usd_per_mtok`?",
        ),
        (with_(servr={"port": 1}), "hub.toml: servr is not a setting; did you mean `server`?"),
        (
            with_(server={"prot": 1}),
            "hub.toml: server.prot is not a setting; did you mean `port`?",
        ),
        (
            with_(connectors={"slak": {}}),
            "hub.toml: connectors.slak names no installed connector; did you mean `slack`?",
        ),
        (
            with_(connectors={"webhooks": {"max_body": 5}}),
            "hub.toml: connectors.webhooks.max_body is not a setting; "
            "did you mean `max_body_bytes`?",
        ),
        (
            with_(server={"port": 99999}),
            "hub.toml: server.port must be less than or equal to 65535 (got 99999)",
        ),
        (
            with_(server={"port": "eighty"}),
            "hub.toml: server.port must be a valid integer, unable to parse string as an "
            "integer (got 'eighty')",
        ),
        (
            with_(providers={"p": {"type": "gpt"}}),
            "hub.toml: providers.p.type must be 'openai', 'anthropic' or 'demo' (got 'gpt')",
        ),
        (
            with_(providers={"p": {"type": "demo", "name": "q"}}),
            "hub.toml: providers.p.name is not a setting: the table's name, 'p', is the name",
        ),
        (
            {"providers": {}, "models": {"x": MODEL}},
            "hub.toml: models.x.deployments[0].provider 'p' names no [providers.*] table "
            "(configured: none)",
        ),
        (
            with_(models={"x": {"deployments": []}}),
            "hub.toml: models.x: deployments needs at least one deployment",
        ),
        ({"providers": {"p": {"type": "demo"}}}, "hub.toml: models is required"),
        (
            with_(models={"x": {"deployments": [{"provider": "p", "model": "m"}]}}),
            "hub.toml: models.x.deployments[0] (p/m) has no input_usd_per_mtok or "
            "output_usd_per_mtok: give its prices in USD per million tokens",
        ),
        (
            with_(models={"x": {"deployments": [{**DEPLOYMENT, "output_usd_per_mtok": -1}]}}),
            "hub.toml: models.x.deployments[0].output_usd_per_mtok must be greater than or "
            "equal to 0 (got -1)",
        ),
        (
            with_(models={"x": {"deployments": [{**DEPLOYMENT, "input_usd_per_mtok": "nan"}]}}),
            "hub.toml: models.x.deployments[0].input_usd_per_mtok must be a finite number",
        ),
        (
            with_(database={"url": "mysql://root@localhost/hub"}),
            "hub.toml: database.url: 'mysql://root@localhost/hub' is not a supported database",
        ),
        (
            with_(redis={"url": "localhost:6379"}),
            "hub.toml: redis.url: 'localhost:6379' is not a Redis URL",
        ),
        (
            with_(server={"trusted_proxies": ["10.0.0.0/8", "gateway"]}),
            "hub.toml: server.trusted_proxies[1]: 'gateway' is not an IP address or CIDR",
        ),
        (
            with_(security={"secret_key": "not-a-key"}),
            "hub.toml: security: the secret key (HUB_SECRET_KEY, secret_key or "
            "secret_key_file) is not a Fernet key",
        ),
        (
            with_(logging={"level": "LOUD"}),
            "hub.toml: logging.level must be 'DEBUG', 'INFO', 'WARNING' or 'ERROR' (got 'LOUD')",
        ),
    ],
)
def test_mistakes_are_named_with_file_and_path(data: dict[str, Any], message: str) -> None:
    assert str(problem(data)).startswith(message)


def test_secrets_are_not_echoed_in_errors() -> None:
    error = problem(with_(providers={"p": {"type": "openai", "api_key": ["sk-live-123"]}}))
    assert "sk-live" not in str(error)
    assert str(error) == "hub.toml: providers.p.api_key must be a valid string"


def test_every_mistake_is_reported_at_once() -> None:
    error = problem(with_(server={"port": -1, "hots": "x"}, connectors={"zapier": {"on": 1}}))
    assert len(error.problems) == 3
    assert str(error).endswith("(and 2 more: run `hub config check`)")


def test_a_price_catalog_can_price_a_deployment() -> None:
    class Catalog:
        def prices(self, *, provider_type: str, model: str) -> Prices | None:
            assert (provider_type, model) == ("demo", "m")
            return Prices(Decimal("1"), Decimal("2"))

    settings = parse_settings(
        with_(models={"x": {"deployments": [{"provider": "p", "model": "m"}]}}),
        env={},
        catalog=Catalog(),
    )
    assert settings.models["x"].deployments[0].cost_micros(1_000_000, 1_000_000) == 3_000_000


def test_settings_are_frozen() -> None:
    settings = parse_settings(MINIMAL, env={})
    with pytest.raises(ValidationError):
        settings.server.port = 1  # type: ignore[misc]


def test_code_may_give_prices_in_micros() -> None:
    deployment = DeploymentSettings(
        provider="p", model="m", input_micros_per_mtok=150_000, output_micros_per_mtok=600_000
    )
    assert deployment.input_usd_per_mtok == Decimal("0.15")
    assert deployment.cost_micros(1234, 567) == 526


def test_relative_paths_resolve_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret-key").write_text(KEY_A + "\n")
    (folder / "hub.toml").write_text(
        '[database]\nurl = "sqlite:///../var/hub.db"\n'
        '[security]\nsecret_key_file = "../var/secret-key"\n'
        '[providers.p]\ntype = "demo"\n'
        '[models.m]\ndeployments = [{ provider = "p", model = "m", '
        "input_usd_per_mtok = 1, output_usd_per_mtok = 1 }]\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(folder / "hub.toml", env={})
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'var' / 'hub.db'}"
    assert settings.security.secret_keys == (KEY_A,)
    # A path given in the environment is the shell's: relative to where the command runs.
    from_env = load_settings(folder / "hub.toml", env={"DATABASE_URL": "sqlite:///x.db"})
    assert from_env.database_url == f"sqlite+aiosqlite:///{Path(os.getcwd()) / 'x.db'}"


def test_unreadable_files_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found: .*pass --config PATH"):
        load_settings(tmp_path / "missing.toml", env={})
    (tmp_path / "bad.toml").write_text("[server\nport = 1\n")
    with pytest.raises(ConfigError, match=r"bad.toml is not valid TOML: .*line 1"):
        load_settings(tmp_path / "bad.toml", env={})


def test_default_alias_is_first_without_default() -> None:
    settings = parse_settings(
        {"providers": {"p": {"type": "demo"}}, "models": {"b": MODEL, "a": MODEL}}, env={}
    )
    assert settings.default_alias == "b"


def test_shipped_configs_load() -> None:
    default = load_settings(ROOT / "config/hub.toml", env={})
    assert default.default_alias == "demo"
    assert default.database_url == f"sqlite+aiosqlite:///{ROOT / 'var' / 'hub.db'}"
    example = load_settings(
        ROOT / "config/hub.example.toml", env={"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k"}
    )
    assert example.default_alias == "default"
    assert [d.provider for d in example.models["default"].deployments] == ["openai", "anthropic"]


def test_database_url_spellings() -> None:
    assert async_database_url("sqlite:///var/hub.db") == "sqlite+aiosqlite:///var/hub.db"
    assert async_database_url("postgres://u@h/d") == "postgresql+asyncpg://u@h/d"


def test_cached_and_cache_write_tokens_have_their_own_prices_defaulting_to_input() -> None:
    from hub.config import DeploymentSettings
    from hub.model import Usage

    priced = DeploymentSettings(
        provider="p",
        model="m",
        input_micros_per_mtok=2_000_000,  # $2 / Mtok
        output_micros_per_mtok=8_000_000,
        cached_input_micros_per_mtok=500_000,
        cache_write_micros_per_mtok=2_500_000,
    )
    usage = Usage(
        prompt_tokens=1_000, completion_tokens=100, cached_tokens=600, cache_write_tokens=100
    )
    # 300 plain * 2 + 600 * 0.5 + 100 * 2.5 + 100 * 8 = 600 + 300 + 250 + 800 = 1950 micro-USD
    assert priced.cost_of(usage) == 1_950
    unpriced = DeploymentSettings(
        provider="p", model="m", input_micros_per_mtok=2_000_000, output_micros_per_mtok=8_000_000
    )
    assert unpriced.cost_of(usage) == (1_000 * 2 + 100 * 8)  # every input token at the input price
