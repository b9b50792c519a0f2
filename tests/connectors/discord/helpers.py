"""Signed interaction requests, built like Discord builds them, and payload builders."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx
from nacl.signing import SigningKey
from sqlalchemy import select

from hub.clock import Clock
from hub.service import Hub
from hub.store.ledger_tables import UsageRecord
from tests.fakes.discord_rest import APP_ID, Call

GUILD = "1300000000000000001"
CHANNEL = "1300000000000000002"
THREAD = "1300000000000000003"
USER = "1400000000000000001"
OTHER_USER = "1400000000000000002"
_next_id = iter(range(1_500_000_000_000_000_000, 1_600_000_000_000_000_000))


def new_id() -> str:
    return str(next(_next_id))


class Interactions:
    def __init__(self, client: httpx.AsyncClient, key: SigningKey, clock: Clock) -> None:
        self._client = client
        self._key = key
        self._clock = clock

    def headers(
        self, body: bytes, *, key: SigningKey | None = None, age_s: float = 0
    ) -> dict[str, str]:
        timestamp = str(int(self._clock.now().timestamp() - age_s))
        signed = (key or self._key).sign(timestamp.encode() + body)
        return {
            "X-Signature-Ed25519": signed.signature.hex(),
            "X-Signature-Timestamp": timestamp,
            "Content-Type": "application/json",
        }

    async def post(self, payload: dict[str, Any], **signing: Any) -> httpx.Response:
        body = json.dumps(payload).encode()
        return await self.send(body, self.headers(body, **signing))

    async def send(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self._client.post("/discord/interactions", content=body, headers=headers)


def command(
    name: str,
    options: dict[str, str] | None = None,
    *,
    guild_id: str | None = GUILD,
    user_id: str = USER,
    channel_id: str = CHANNEL,
    permissions: int = 0,
    interaction_id: str | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": interaction_id or new_id(),
        "application_id": APP_ID,
        "type": 2,
        "token": "tok-" + new_id(),
        "version": 1,
        "channel_id": channel_id,
        "channel": {"id": channel_id, "type": 0 if guild_id else 1},
        "data": {
            "id": "1600000000000000001",
            "name": name,
            "type": 1,
            "options": [{"name": k, "type": 3, "value": v} for k, v in (options or {}).items()],
        },
    }
    user = {"id": user_id, "username": "asker", "discriminator": "0", "avatar": None}
    if guild_id:
        payload["guild_id"] = guild_id
        payload["member"] = {"user": user, "roles": [], "permissions": str(permissions)}
    else:
        payload["user"] = user
    return payload


def stop_press(custom_id: str, *, user_id: str = USER) -> dict[str, Any]:
    user = {"id": user_id, "username": "asker", "discriminator": "0", "avatar": None}
    return {
        "id": new_id(),
        "application_id": APP_ID,
        "type": 3,
        "token": "tok-" + new_id(),
        "version": 1,
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "member": {"user": user, "roles": [], "permissions": "0"},
        "data": {"custom_id": custom_id, "component_type": 2},
        "message": {"id": new_id(), "channel_id": CHANNEL},
    }


def webhook_path(payload: dict[str, Any], tail: str = "") -> str:
    return f"/webhooks/{APP_ID}/{payload['token']}{tail}"


def original(payload: dict[str, Any]) -> Any:
    path = webhook_path(payload, "/messages/@original")
    return lambda call: call.path == path


def contents(calls: Sequence[Call]) -> list[str]:
    return [c.json["content"] for c in calls]


async def usage_records(hub: Hub) -> list[UsageRecord]:
    async with hub.sessions() as session:
        return list(await session.scalars(select(UsageRecord).order_by(UsageRecord.id)))


def no_stop_button(body: Any) -> bool:
    """A message edit that ends an answer: it has no Stop button any more (a finished answer
    may carry 👍/👎 instead)."""
    components = body.get("components") if isinstance(body, dict) else None
    return isinstance(components, list) and '"stop:' not in json.dumps(components)
