"""Budget notices posted into a team's Slack channel (registered with hub.notices).

With one workspace (a bot token in config) the notice channel is a channel id, `C0123`. With
OAuth installs the hub must also know which workspace's bot posts it, so the channel is written
`T0456/C0123` (workspace id, channel id); the bot token stored for that install is used.
"""

from __future__ import annotations

import logging

from connectors.slack.client import web_client
from connectors.slack.config import SlackSettings
from connectors.slack.stores import HubInstallationStore
from hub.clock import Clock

log = logging.getLogger("connectors.slack.notices")


class NoticeProblem(Exception):
    """The notice cannot be posted as configured (says why, for the operator's log)."""


class SlackNoticeSender:
    def __init__(
        self, settings: SlackSettings, clock: Clock, installations: HubInstallationStore | None
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._installations = installations

    async def __call__(self, channel: str, text: str) -> None:
        workspace, _, channel_id = channel.rpartition("/")
        token = await self._token(workspace)
        client = web_client(base_url=self._settings.api_base_url, clock=self._clock, token=token)
        await client.chat_postMessage(channel=channel_id, text=text)

    async def _token(self, workspace: str) -> str:
        if self._installations is None:
            return self._settings.bot_token
        if not workspace:
            raise NoticeProblem(
                "with OAuth installs, set the team's Slack notice channel as WORKSPACE/CHANNEL "
                "(e.g. T0456/C0123)"
            )
        bot = await self._installations.async_find_bot(enterprise_id=None, team_id=workspace)
        if bot is None:
            raise NoticeProblem(f"the app is not installed in Slack workspace {workspace}")
        return bot.bot_token
