"""The slash commands as Discord's application-command JSON, and registering them.

Registration is a bulk overwrite (PUT), so running it again leaves the same four commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.discord.rest import DiscordRest

CHAT_INPUT = 1
STRING = 3
USER = 6
MAX_CHOICES = 25  # Discord's limit on an option's fixed choices
GUILD, BOT_DM = 0, 1  # interaction contexts
GUILD_INSTALL = 0


def command_definitions(aliases: Sequence[str], *, for_guild: bool) -> list[dict[str, Any]]:
    model_option: dict[str, Any] = {
        "type": STRING,
        "name": "model",
        "description": "Model alias (default: this channel's model)",
        "required": False,
    }
    alias_option: dict[str, Any] = {
        "type": STRING,
        "name": "alias",
        "description": "Model alias to make this channel's default",
        "required": False,
    }
    if 0 < len(aliases) <= MAX_CHOICES:
        choices = [{"name": a, "value": a} for a in aliases]
        model_option["choices"] = choices
        alias_option["choices"] = choices
    commands: list[dict[str, Any]] = [
        {
            "name": "ask",
            "type": CHAT_INPUT,
            "description": "Ask the LLM; the answer streams into the channel",
            "options": [
                {
                    "type": STRING,
                    "name": "prompt",
                    "description": "Your question",
                    "required": True,
                    "max_length": 6000,
                },
                model_option,
            ],
        },
        {
            "name": "usage",
            "type": CHAT_INPUT,
            "description": "This month's spending for the server's team, and your share",
        },
        {
            "name": "model",
            "type": CHAT_INPUT,
            "description": "Show or set this channel's default model",
            "options": [alias_option],
        },
        {
            "name": "quota",
            "type": CHAT_INPUT,
            "description": "Set a member's spending or token limit (hub team admins)",
            "options": [
                {
                    "type": USER,
                    "name": "user",
                    "description": "Who the limit is for",
                    "required": True,
                },
                {
                    "type": STRING,
                    "name": "limit",
                    "description": "e.g. 5usd/month, $2/day, 100k tokens/month",
                    "required": True,
                    "max_length": 100,
                },
            ],
        },
    ]
    if not for_guild:
        # Global commands also work in DMs with the bot; guild commands have no such setting.
        # A quota is for a member of the server's team, so /quota stays in servers.
        for command in commands:
            command["contexts"] = [GUILD] if command["name"] == "quota" else [GUILD, BOT_DM]
            command["integration_types"] = [GUILD_INSTALL]
    return commands


async def sync_commands(
    rest: DiscordRest, *, application_id: str, aliases: Sequence[str], guild_id: str | None
) -> list[dict[str, Any]]:
    """Overwrite the application's commands (globally, or in one guild); returns Discord's."""
    definitions = command_definitions(aliases, for_guild=guild_id is not None)
    registered = await rest.overwrite_commands(application_id, definitions, guild_id=guild_id)
    return list(registered or [])
