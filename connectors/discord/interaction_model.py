"""Interaction payloads (Discord's documented JSON) into a small typed value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.discord.billing import Place
from hub.errors import BadRequest

PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
THREAD_TYPES = {10, 11, 12}  # announcement, public and private threads


@dataclass(frozen=True, slots=True)
class Interaction:
    id: str
    type: int
    token: str
    application_id: str
    place: Place
    user_id: str
    command: str = ""
    options: dict[str, str] = field(default_factory=dict)
    custom_id: str = ""
    permissions: int = 0  # the member's permissions in the channel; 0 in DMs


def parse_interaction(payload: Any) -> Interaction:
    if not isinstance(payload, dict):
        raise BadRequest("The interaction must be a JSON object.")
    try:
        kind = int(payload["type"])
        interaction_id = str(payload["id"])
        if kind == PING:
            return Interaction(
                interaction_id,
                kind,
                "",
                str(payload.get("application_id", "")),
                Place(None, ""),
                "",
            )
        token = str(payload["token"])
        application_id = str(payload["application_id"])
        member = payload.get("member") or {}
        user = member.get("user") or payload.get("user") or {}
        data = payload.get("data") or {}
        return Interaction(
            id=interaction_id,
            type=kind,
            token=token,
            application_id=application_id,
            place=_place(payload),
            user_id=str(user["id"]),
            command=str(data.get("name", "")),
            options={
                str(o["name"]): str(o["value"])
                for o in data.get("options", [])
                if isinstance(o, dict) and "value" in o
            },
            custom_id=str(data.get("custom_id", "")),
            permissions=int(member.get("permissions") or 0),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest(f"The interaction is missing or has a malformed field: {exc}.") from exc


def _place(payload: dict[str, Any]) -> Place:
    guild_id = payload.get("guild_id")
    channel = payload.get("channel") or {}
    channel_id = str(payload.get("channel_id") or channel.get("id") or "")
    if channel.get("type") in THREAD_TYPES and channel.get("parent_id"):
        return Place(str(guild_id) if guild_id else None, str(channel["parent_id"]), channel_id)
    return Place(str(guild_id) if guild_id else None, channel_id)
