"""Registration of the Slack connector with the hub: routes, Socket Mode, and `hub slack`.

Only this light object is loaded with the hub (its settings model is part of every config);
slack-bolt, slack-sdk and pypdf are imported when the connector is created, so a hub without
Slack does not pay for them at start."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from connectors.slack.config import SlackSettings
from hub.connector import SectionValue

if TYPE_CHECKING:
    from connectors.slack.connector import SlackConnector
    from hub.doctor import Check
    from hub.service import Hub


class SlackPlugin:
    name = "slack"
    enabled_by_default = False

    def create(self, hub: Hub, section: SectionValue) -> SlackConnector:
        from connectors.slack.connector import SlackConnector

        return SlackConnector(hub, SlackSettings.usable(section, name="slack"))

    def settings_model(self) -> type[SlackSettings]:
        return SlackSettings

    async def doctor_checks(self, hub: Hub, section: SectionValue) -> list[Check]:
        from connectors.slack.doctor import slack_checks

        return await slack_checks(hub, section)

    def openapi_fragment(self) -> Mapping[str, Any]:
        from connectors.slack.openapi import fragment

        return fragment()

    def commands(self) -> Sequence[click.Command]:
        from connectors.slack.cli import slack_group

        return (slack_group,)

    def simulate_command(self) -> click.Command:
        from connectors.slack.simulate import simulate_slack

        return simulate_slack


plugin = SlackPlugin()
