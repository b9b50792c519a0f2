"""`hub doctor`'s Slack rows: the signing secret is there, and Slack accepts the bot token."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from connectors.slack.config import SlackSettings
from hub.connector import SectionValue
from hub.doctor import Check, timed
from hub.service import Hub


async def slack_checks(hub: Hub, section: SectionValue) -> list[Check]:
    settings = SlackSettings.model_validate(section)
    checks = []
    if settings.socket_mode:
        checks.append(
            Check(
                "slack app token",
                settings.app_token.startswith("xapp-"),
                "socket mode with an xapp- token"
                if settings.app_token.startswith("xapp-")
                else "socket_mode needs app_token (xapp-...); fix: set SLACK_APP_TOKEN",
            )
        )
    else:
        present = bool(settings.signing_secret)
        checks.append(
            Check(
                "slack signing secret",
                present,
                "set" if present else "missing; fix: set SLACK_SIGNING_SECRET (Basic Information)",
            )
        )
    if settings.bot_token:
        client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_base_url)

        async def probe() -> str:
            answer = await client.auth_test()
            return f"auth.test: workspace {answer.get('team')}, bot {answer.get('user')}"

        checks.append(
            await timed("slack bot token", probe, fix="set SLACK_BOT_TOKEN to the xoxb- token")
        )
    else:
        checks.append(Check("slack installs", True, "OAuth installs through /slack/install"))
    return checks
