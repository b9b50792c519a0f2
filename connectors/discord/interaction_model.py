"""Interaction payloads (Discord's documented JSON) into a small typed value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.discord.billing import Place
from hub.errors import BadRequest
from hub.untrusted import json_int

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
        kind = json_int(payload.get("type"), field="type", low=1, high=99)
        interaction_id = _text(payload, "id")
        if kind == PING:
            return Interaction(
                interaction_id,
                kind,
                "",
                _text(payload, "application_id", required=False),
                Place(None, ""),
                "",
            )
        token = _text(payload, "token")
        application_id = _text(payload, "application_id")
        member = _object(payload, "member")
        user = _object(member, "user") or _object(payload, "user")
        data = _object(payload, "data")
        options = data.get("options") or []
        if not isinstance(options, list):
            raise BadRequest("The interaction's data.options must be a list.")
        return Interaction(
            id=interaction_id,
            type=kind,
            token=token,
            application_id=application_id,
            place=_place(payload),
            user_id=_text(user, "id"),
            command=_text(data, "name", required=False),
            options={
                _text(o, "name"): str(o["value"])
                for o in options
                if isinstance(o, dict) and "value" in o
            },
            custom_id=_text(data, "custom_id", required=False),
            permissions=int(_text(member, "permissions", required=False) or 0),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadRequest(f"The interaction is missing or has a malformed field: {exc}.") from exc


def _object(payload: dict[str, Any], key: str) -> dict[str, Any]:
    """`payload[key]` when it is an object; {} when absent or null; refused otherwise."""
    value = payload.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(f"The interaction's '{key}' must be an object.")
    return value


def _text(payload: dict[str, Any], key: str, *, required: bool = True) -> str:
    """A string (or a snowflake written as a number) of sane length."""
    value = payload.get(key)
    if value is None and not required:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int) or len(str(value)) > 4000:
        raise BadRequest(f"The interaction's '{key}' must be a string.")
    return str(value)


def _place(payload: dict[str, Any]) -> Place:
    guild_id = _text(payload, "guild_id", required=False) or None
    channel = _object(payload, "channel")
    channel_id = _text(payload, "channel_id", required=False) or _text(
        channel, "id", required=False
    )
    if channel.get("type") in THREAD_TYPES and channel.get("parent_id"):
        return Place(guild_id, _text(channel, "parent_id"), channel_id)
    return Place(guild_id, channel_id)
