"""`[connectors.discord]` parsing: defaults, and errors that name the key."""

from __future__ import annotations

import pytest

from connectors.discord.config import DISCORD_API, parse_discord_config
from hub.config import ConfigError


def test_defaults_point_at_discord() -> None:
    config = parse_discord_config({"application_id": 123, "bot_token": "sekrit-token"})
    assert config.application_id == "123"
    assert config.api_base_url == DISCORD_API
    assert config.gateway_url == ""
    assert config.default_model is None
    assert "sekrit" not in repr(config)  # the token stays out of logs


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"public_key": "abc"}, "connectors.discord.public_key must be the 64-character hex"),
        ({"application_id": "my-app"}, "connectors.discord.application_id must be the numeric"),
        ({"gateway_url": "http://x"}, "connectors.discord.gateway_url must be a ws(s) URL"),
        ({"bot_tokn": "x"}, "connectors.discord has unknown keys: bot_tokn"),
        ({"bot_token": 5.5}, "connectors.discord.bot_token must be a string"),
    ],
)
def test_mistakes_name_the_key(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_discord_config(section)


def test_require_names_what_is_missing() -> None:
    with pytest.raises(ConfigError, match="connectors.discord.public_key is required"):
        parse_discord_config({"application_id": "1"}).require("application_id", "public_key")
