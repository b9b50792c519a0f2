"""`/usage` and `/model`: quick answers given within the interaction request itself."""

from __future__ import annotations

from typing import Any

from connectors.discord.billing import PLATFORM, Place, alias_for, caller_for
from connectors.discord.config import DiscordConfig
from connectors.discord.interaction_model import Interaction
from connectors.discord.pages import NO_MENTIONS
from hub.ledger.money import format_usd
from hub.service import Hub

CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
EPHEMERAL = 64
# Setting a channel's model affects everyone there: Manage Channels, or Administrator.
MANAGE_CHANNELS = 1 << 4
ADMINISTRATOR = 1 << 3


def message(content: str, *, ephemeral: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"content": content, "allowed_mentions": NO_MENTIONS}
    if ephemeral:
        data["flags"] = EPHEMERAL
    return {"type": CHANNEL_MESSAGE, "data": data}


async def usage_reply(hub: Hub, config: DiscordConfig, interaction: Interaction) -> dict[str, Any]:
    caller = await caller_for(hub, config, interaction.place)
    status = await hub.usage.month_status(caller, user=interaction.user_id)
    spent = format_usd(status.spent_micros)
    money = f"{spent} of {format_usd(status.budget_micros)}" if status.budget_micros else spent
    tokens = f"{status.tokens_spent:,}"
    if status.token_quota:
        tokens += f" of {status.token_quota:,}"
    lines = [
        f"**{caller.team_name}** this month: {money} spent, {tokens} tokens.",
        f"Your share: {format_usd(status.user_spent_micros)}, {status.user_tokens:,} tokens.",
        f"Resets {status.resets_at:%Y-%m-%d %H:%M} UTC.",
    ]
    return message("\n".join(lines), ephemeral=True)


async def model_reply(hub: Hub, config: DiscordConfig, interaction: Interaction) -> dict[str, Any]:
    place = interaction.place
    await caller_for(hub, config, place)  # only bound servers get to configure anything
    wanted = interaction.options.get("alias")
    if wanted is None:
        current = await alias_for(hub, config, place, None)
        return message(
            f"This channel uses **{current}**. Available: {', '.join(hub.aliases)}.",
            ephemeral=True,
        )
    if place.guild_id is not None and not interaction.permissions & (
        MANAGE_CHANNELS | ADMINISTRATOR
    ):
        return message(
            "Changing this channel's model needs the Manage Channels permission.",
            ephemeral=True,
        )
    alias = hub.router.resolve(wanted).alias  # UnknownModel lists the choices
    await hub.channels.set(PLATFORM, _channel_key(place), alias)
    return message(f"This channel now uses **{alias}** by default.")


def _channel_key(place: Place) -> str:
    return place.thread_id or place.channel_id
