"""Settings from TOML and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import ConfigError, async_database_url, load_settings, parse_settings

ROOT = Path(__file__).resolve().parents[2]
MODEL = {
    "deployments": [
        {"provider": "p", "model": "m", "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.6}
    ]
}


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
            "HUB_SECRET_KEY": "a,b",
        },
    )
    provider = settings.providers["p"]
    assert (provider.api_key, provider.base_url) == ("sk-x", "http://localhost:9/v1")
    assert "sk-x" not in repr(provider)
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.security.secret_keys == ("a", "b")
    assert settings.default_alias == "default"
    deployment = settings.models["first"].deployments[0]
    assert (deployment.input_micros_per_mtok, deployment.output_micros_per_mtok) == (
        150_000,
        600_000,
    )
    assert deployment.cost_micros(1234, 567) == 526


def test_default_alias_is_first_without_default() -> None:
    settings = parse_settings(
        {"providers": {"p": {"type": "demo"}}, "models": {"b": MODEL, "a": MODEL}}, env={}
    )
    assert settings.default_alias == "b"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"providers": {"p": {"type": "gpt"}}},
            "providers.p.type must be openai, anthropic or demo",
        ),
        (
            {"providers": {}, "models": {"x": MODEL}},
            "models.x.deployments[0].provider names no configured provider",
        ),
        (
            {"providers": {"p": {"type": "demo"}}, "models": {"x": {"deployments": []}}},
            "models.x.deployments needs at least one",
        ),
    ],
)
def test_config_errors_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_settings(data, env={})


def test_shipped_configs_load() -> None:
    default = load_settings(ROOT / "config/hub.toml", env={})
    assert default.default_alias == "demo"
    assert default.database_url == "sqlite+aiosqlite:///var/hub.db"
    example = load_settings(ROOT / "config/hub.example.toml", env={"OPENAI_API_KEY": "k"})
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
