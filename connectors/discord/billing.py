"""Who pays for a Discord request, which model answers it, and the usage record's origin."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.discord.config import DiscordConfig
from hub.errors import NotBound
from hub.model import Caller, Origin
from hub.service import Hub

PLATFORM = "discord"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a message was written: a guild (None in DMs), a channel, maybe a thread in it."""

    guild_id: str | None
    channel_id: str
    thread_id: str | None = None

    def origin(self, *, user_id: str, external_id: str) -> Origin:
        return Origin(
            connector=PLATFORM,
            user=user_id,
            channel=self.channel_id,
            thread=self.thread_id,
            workspace=self.guild_id,
            external_id=external_id,
            conversation=self.thread_id or self.channel_id,  # a Discord thread is a channel
        )


async def caller_for(hub: Hub, config: DiscordConfig, place: Place) -> Caller:
    """The hub team paying here; NotBound (with what to do about it) when there is none."""
    if place.guild_id is None:
        if config.dm_team is None:
            raise NotBound(
                "Direct messages are not enabled for this bot; mention it in a server instead."
            )
        team = await hub.teams.get_active(config.dm_team)
        return Caller(team_id=team.id, team_name=team.name)
    caller = await hub.bindings.caller_for(PLATFORM, place.guild_id)
    if caller is None:
        raise NotBound(
            "This server is not linked to a hub team yet; ask an admin to run "
            f"`hub bind discord {place.guild_id} --team NAME`."
        )
    return caller


async def alias_for(hub: Hub, config: DiscordConfig, place: Place, asked: str | None) -> str:
    """The alias to use: asked for, else the thread's or channel's default, else the
    connector's `default_model`, else the hub's default. Raises UnknownModel."""
    alias = asked
    if alias is None and place.thread_id is not None:
        alias = await hub.channels.get(PLATFORM, place.thread_id)
    if alias is None:
        alias = await hub.channels.get(PLATFORM, place.channel_id)
    alias = alias or config.default_model
    return hub.router.resolve(alias).alias
