"""`/usage`, `/model` and `/quota`: quick answers given within the interaction request itself.

Who may change what is the hub's decision (hub.chat_admin), through the asker's linked hub
account: setting a channel's model or a member's quota needs a hub admin of the server's team.
Discord's own Manage Channels permission does not count, since the choice spends the team's
money, which is what hub admins answer for.
"""

from __future__ import annotations

from typing import Any

from connectors.discord.billing import PLATFORM, Place, alias_for, caller_for
from connectors.discord.config import DiscordConfig
from connectors.discord.interaction_model import Interaction
from connectors.discord.pages import NO_MENTIONS
from hub.audit import Actor, acting_as
from hub.chat_admin import may_manage, set_member_quota
from hub.ledger.money import format_usd
from hub.service import Hub

CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
EPHEMERAL = 64


def message(content: str, *, ephemeral: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"content": content, "allowed_mentions": NO_MENTIONS}
    if ephemeral:
        data["flags"] = EPHEMERAL
    return {"type": CHANNEL_MESSAGE, "data": data}


async def usage_reply(hub: Hub, config: DiscordConfig, interaction: Interaction) -> dict[str, Any]:
    place = interaction.place
    caller = await caller_for(hub, config, place)
    # The same rule as asking: under `members_only`, people who are not members are refused.
    asker, _ = await hub.members.resolve(
        caller, place.origin(user_id=interaction.user_id, external_id=interaction.id)
    )
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
    if asker.member_id is not None:
        limits = await hub.members.limits(asker.member_id)
        lines += [limit.describe() for limit in limits]
    plan, estimate = await hub.billing.plan_and_estimate(caller.team_id)
    lines.append(
        f"Plan **{plan or 'none'}**: invoice estimate so far {format_usd(estimate)}"
        f" (the draft for {hub.clock.now():%Y-%m})."
    )
    return message("\n".join(lines), ephemeral=True)


async def model_reply(hub: Hub, config: DiscordConfig, interaction: Interaction) -> dict[str, Any]:
    place = interaction.place
    caller = await caller_for(hub, config, place)  # only bound servers configure anything
    wanted = interaction.options.get("alias")
    if wanted is None:
        current = await alias_for(hub, config, place, None)
        return message(
            f"This channel uses **{current}**. Available: {', '.join(hub.aliases)}.",
            ephemeral=True,
        )
    workspace = place.guild_id or ""
    user = interaction.user_id
    if not await may_manage(hub, caller, platform=PLATFORM, workspace=workspace, user=user):
        return message(
            f"Only admins of team '{caller.team_name}' can change a channel's default model. "
            f"An owner can make you one: hub member role NAME admin --team {caller.team_name}",
            ephemeral=True,
        )
    alias = hub.router.resolve(wanted).alias  # UnknownModel lists the choices
    with acting_as(Actor(PLATFORM, user)):
        await hub.channels.set(PLATFORM, _channel_key(place), alias, team_id=caller.team_id)
    return message(f"This channel now uses **{alias}** by default.")


async def quota_reply(hub: Hub, config: DiscordConfig, interaction: Interaction) -> dict[str, Any]:
    place = interaction.place
    if place.guild_id is None:
        return message("Set quotas from a server bound to the team.", ephemeral=True)
    caller = await caller_for(hub, config, place)
    target = interaction.options.get("user", "")
    if not target:
        return message(
            "Pick whom the limit is for: `/quota user:@someone limit:5usd/month`.", ephemeral=True
        )
    sentence = await set_member_quota(
        hub,
        caller,
        platform=PLATFORM,
        workspace=place.guild_id,
        asker=interaction.user_id,
        target=target,
        text=interaction.options.get("limit", ""),
        target_label=f"<@{target}>",
    )
    return message(sentence, ephemeral=True)


def _channel_key(place: Place) -> str:
    return place.thread_id or place.channel_id
