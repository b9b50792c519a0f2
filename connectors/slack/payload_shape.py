"""The shape Bolt relies on, checked before a signed payload reaches it.

Bolt reads ids (team, user, channel, enterprise) and the event out of every payload as
Slack shapes them, and a field of another type is a TypeError inside Bolt: a 500 for a
request that is simply not one Slack sends. Only the fields Bolt and our listeners read are
checked; anything else passes through untouched."""

from __future__ import annotations

from typing import Any

from hub.errors import InvalidField

_TEXTS = (
    "type", "team_id", "api_app_id", "enterprise_id", "event_id", "token", "trigger_id",
    "response_url", "callback_id", "command", "text", "user_id", "channel_id", "challenge",
)  # fmt: skip
_REFERENCES = ("team", "user", "channel", "enterprise", "api_app", "app")
_OBJECTS = (
    "view", "container", "message", "state", "function_data", "bot_profile", "assistant_thread",
)  # fmt: skip
_LISTS = ("authorizations", "actions", "files", "blocks", "attachments")
# Bolt routes these by their first action (`body["actions"][0]`, then its action_id).
_ACTION_TYPES = ("block_actions", "interactive_message")
_EVENT_TEXTS = (
    "type", "subtype", "text", "ts", "thread_ts", "event_ts", "channel_type", "bot_id",
)  # fmt: skip


def check_shape(payload: dict[str, Any], *, field: str) -> None:
    """InvalidField naming the first field Bolt could not read."""
    _fields(payload, field, texts=_TEXTS)
    if payload.get("type") in _ACTION_TYPES:
        _actions(payload, field)
    event = payload.get("event")
    if payload.get("type") == "event_callback" and not isinstance(event, dict):
        raise InvalidField(f"{field}.event", "An event_callback must carry an event object.")
    if event is not None:
        if not isinstance(event, dict):
            raise InvalidField(f"{field}.event", "'event' must be an object.")
        _fields(event, f"{field}.event", texts=_EVENT_TEXTS)
        for key in ("message", "previous_message"):
            inner = event.get(key)
            if isinstance(inner, dict):
                _fields(inner, f"{field}.event.{key}", texts=_EVENT_TEXTS)


def _fields(obj: dict[str, Any], where: str, *, texts: tuple[str, ...]) -> None:
    for key in texts:
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise InvalidField(f"{where}.{key}", f"'{where}.{key}' must be a string.")
    for key in _REFERENCES:
        value = obj.get(key)
        if value is None or isinstance(value, str):
            continue
        if not isinstance(value, dict):
            raise InvalidField(f"{where}.{key}", f"'{where}.{key}' must be an id or an object.")
        _fields(value, f"{where}.{key}", texts=("id", "team_id", "enterprise_id", "name"))
    for key in _OBJECTS:
        value = obj.get(key)
        if value is not None and not isinstance(value, dict):
            raise InvalidField(f"{where}.{key}", f"'{where}.{key}' must be an object.")
    for key in _LISTS:
        value = obj.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise InvalidField(f"{where}.{key}", f"'{where}.{key}' must be a list of objects.")


def _actions(payload: dict[str, Any], field: str) -> None:
    kind = payload["type"]
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions:
        raise InvalidField(
            f"{field}.actions", f"A {kind} payload must carry a non-empty 'actions' list."
        )
    for n, action in enumerate(actions):
        if not isinstance(action, dict):
            raise InvalidField(f"{field}.actions", f"'{field}.actions' must be a list of objects.")
        where = f"{field}.actions[{n}]"
        if kind == "block_actions" and not isinstance(action.get("action_id"), str):
            raise InvalidField(f"{where}.action_id", f"'{where}.action_id' must be a string.")
        for key in ("block_id", "name", "value"):
            value = action.get(key)
            if value is not None and not isinstance(value, str):
                raise InvalidField(f"{where}.{key}", f"'{where}.{key}' must be a string.")
