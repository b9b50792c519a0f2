"""`hub doctor`'s Discord rows: Discord accepts the bot token and knows the application id."""

from __future__ import annotations

from connectors.discord.config import DiscordConfig
from connectors.discord.rest import DiscordRest
from hub.connector import SectionValue
from hub.doctor import Check, timed
from hub.service import Hub


async def discord_checks(hub: Hub, section: SectionValue) -> list[Check]:
    config = DiscordConfig.model_validate(section)
    if not config.bot_token:
        return [
            Check(
                "discord bot token",
                False,
                "missing: the gateway bot and sync-commands need it; fix: set DISCORD_BOT_TOKEN",
            )
        ]
    rest = DiscordRest(
        hub.http, base_url=config.api_base_url, bot_token=config.bot_token, clock=hub.clock
    )

    async def bot() -> str:
        me = await rest.request("GET", "/users/@me")
        return f"accepted: bot {me.get('username')}"

    async def application() -> str:
        found = await rest.request("GET", "/oauth2/applications/@me")
        if str(found.get("id")) != config.application_id:
            raise RuntimeError(
                f"the bot belongs to application {found.get('id')}, not {config.application_id}"
            )
        return f"{config.application_id} ({found.get('name')})"

    return [
        await timed("discord bot token", bot, fix="reset the token (Developer Portal → Bot)"),
        await timed("discord application id", application, fix="copy it from General Information"),
    ]
