"""Socket Mode: no public URL; events arrive over Slack's WebSocket and are answered the same."""

from __future__ import annotations

import json

import pytest

from connectors.slack.config import SlackSettings
from hub.config import ConfigError
from tests.connectors.slack.conftest import HarnessFactory, hub_config
from tests.connectors.slack.harness import BOT_USER, CHANNEL
from tests.fakes.openai_server import reply
from tests.support.hubs import connector_section


def test_socket_mode_needs_an_app_token() -> None:
    with pytest.raises(ConfigError, match="app_token"):
        connector_section("slack", {"bot_token": "xoxb-1", "socket_mode": True})
    settings = connector_section(
        "slack", {"bot_token": "xoxb-1", "socket_mode": True, "app_token": "xapp-1"}
    )
    assert isinstance(settings, SlackSettings)
    assert settings.socket_mode and not settings.signing_secret


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match="connectors.slack.colour is not a setting"):
        connector_section("slack", {"bot_token": "x", "signing_secret": "s", "colour": "red"})
    with pytest.raises(ConfigError, match="connectors.slack: signing_secret is required"):
        connector_section("slack", {"bot_token": "x"})
    with pytest.raises(ConfigError, match="needs bot_token"):
        connector_section("slack", {"signing_secret": "s"})
    with pytest.raises(ConfigError, match="both client_id and client_secret"):
        connector_section("slack", {"signing_secret": "s", "client_id": "1"})


async def test_events_over_socket_mode_are_answered(
    slack_hub: HarnessFactory,
    fake_openai,
    fake_slack,  # type: ignore[no-untyped-def]
) -> None:
    config = hub_config(fake_openai, fake_slack)
    config["connectors"]["slack"].update(socket_mode=True, app_token="xapp-1-test")
    async with slack_hub(config=config) as h:
        events = await h.http.post("/slack/events", content=b"{}")
        assert events.status_code == 404  # no HTTP endpoint in Socket Mode
        h.llm.script(reply("Over the socket."))
        ts = h.slack.add_message(CHANNEL, f"<@{BOT_USER}> hi")
        body = h.event_body(
            {
                "type": "app_mention",
                "user": "U1",
                "text": f"<@{BOT_USER}> hi",
                "ts": ts,
                "channel": CHANNEL,
                "event_ts": ts,
            }
        )
        await h.slack.socket_send(
            {
                "envelope_id": "env-1",
                "type": "events_api",
                "accepts_response_payload": False,
                "payload": json.loads(body),
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        ack = await h.slack.wait_for("socket_ack")
        assert ack.args["envelope_id"] == "env-1"
        stop = await h.slack.wait_for("chat.stopStream")
        await h.connector.drain()
        assert h.slack.messages[str(stop.args["ts"])].text == "Over the socket."
