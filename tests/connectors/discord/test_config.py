"""`[connectors.discord]` through the settings loader: defaults, and errors that name the key."""

from __future__ import annotations

import pytest

from connectors.discord.config import DISCORD_API, DiscordConfig
from hub.config import ConfigError
from tests.support.hubs import connector_section

KEY = "ab" * 32


def test_defaults_point_at_discord() -> None:
    config = connector_section(
        "discord", {"application_id": 123, "public_key": KEY, "bot_token": "sekrit-token"}
    )
    assert isinstance(config, DiscordConfig)
    assert config.application_id == "123"
    assert config.api_base_url == DISCORD_API
    assert config.gateway_url == ""
    assert config.default_model is None
    assert "sekrit" not in repr(config)  # the token stays out of logs


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"public_key": "abc"}, "connectors.discord.public_key: public_key must be the 64-"),
        ({"application_id": "my-app"}, "connectors.discord.application_id: application_id must"),
        ({"gateway_url": "http://x"}, "connectors.discord.gateway_url: gateway_url must be a ws"),
        ({"bot_tokn": "x"}, "connectors.discord.bot_tokn is not a setting; did you mean `bot_"),
        ({"bot_token": 5.5}, "connectors.discord.bot_token must be a valid string"),
        ({"application_id": ""}, "connectors.discord: application_id is required"),
    ],
)
def test_mistakes_name_the_key(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        connector_section("discord", {"application_id": "1", "public_key": KEY} | section)
    assert message in str(caught.value)


def test_a_disabled_section_may_be_incomplete_but_not_wrong() -> None:
    assert not connector_section("discord", {"public_key": ""}, enabled=False).enabled
    with pytest.raises(ConfigError, match="public_key must be the 64-character"):
        connector_section("discord", {"public_key": "abc"}, enabled=False)


def test_require_names_what_is_missing() -> None:
    config = connector_section("discord", {"application_id": "1"}, enabled=False)
    assert isinstance(config, DiscordConfig)
    with pytest.raises(ConfigError, match="connectors.discord.public_key is required"):
        config.require("application_id", "public_key")
