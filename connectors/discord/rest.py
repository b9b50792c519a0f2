"""The hub's own Discord REST calls (interaction webhooks, channel messages, commands) on httpx.

discord.py handles its own HTTP; these calls are the ones the web process makes without a
gateway client. A 429 is retried after Discord's `retry_after` on the hub clock.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from hub.clock import Clock

log = logging.getLogger("connectors.discord.rest")

MAX_RATE_LIMIT_RETRIES = 3
# Error codes that mean "this interaction token can no longer be used".
UNKNOWN_WEBHOOK = 10015
UNKNOWN_INTERACTION = 10062
INVALID_WEBHOOK_TOKEN = 50027


class DiscordAPIError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"Discord API {status} (code {code}): {message}")
        self.status = status
        self.code = code

    @property
    def interaction_expired(self) -> bool:
        return self.code in (UNKNOWN_WEBHOOK, UNKNOWN_INTERACTION, INVALID_WEBHOOK_TOKEN) or (
            self.status == 404 and self.code == 0
        )


class DiscordRest:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        bot_token: str,
        clock: Clock,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._bot_token = bot_token
        self._clock = clock

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        bot_auth: bool = True,
    ) -> Any:
        """One call; None for 204. Webhook calls authenticate by their token (`bot_auth=False`)."""
        headers = {"User-Agent": "DiscordBot (https://github.com/unillm-hub, 0.1) unillm-hub"}
        if bot_auth:
            headers["Authorization"] = f"Bot {self._bot_token}"
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            response = await self._http.request(
                method, self._base + path, json=json, params=params, headers=headers
            )
            if response.status_code == 429 and attempt < MAX_RATE_LIMIT_RETRIES:
                await self._clock.sleep(_retry_after(response))
                continue
            if response.is_success:
                return response.json() if response.content else None
            raise _api_error(response)
        raise AssertionError("unreachable")  # the loop always returns or raises

    # -- interaction webhooks (the token is the credential) -------------------------------

    async def edit_original(self, app_id: str, token: str, body: dict[str, Any]) -> Any:
        path = f"/webhooks/{app_id}/{token}/messages/@original"
        return await self.request("PATCH", path, json=body, bot_auth=False)

    async def delete_original(self, app_id: str, token: str) -> None:
        path = f"/webhooks/{app_id}/{token}/messages/@original"
        await self.request("DELETE", path, bot_auth=False)

    async def followup(self, app_id: str, token: str, body: dict[str, Any]) -> Any:
        path = f"/webhooks/{app_id}/{token}"
        return await self.request("POST", path, json=body, params={"wait": "true"}, bot_auth=False)

    async def edit_followup(
        self, app_id: str, token: str, message_id: str, body: dict[str, Any]
    ) -> Any:
        path = f"/webhooks/{app_id}/{token}/messages/{message_id}"
        return await self.request("PATCH", path, json=body, bot_auth=False)

    # -- as the bot ----------------------------------------------------------------------

    async def send_message(self, channel_id: str, body: dict[str, Any]) -> Any:
        return await self.request("POST", f"/channels/{channel_id}/messages", json=body)

    async def edit_message(self, channel_id: str, message_id: str, body: dict[str, Any]) -> Any:
        path = f"/channels/{channel_id}/messages/{message_id}"
        return await self.request("PATCH", path, json=body)

    async def overwrite_commands(
        self, app_id: str, commands: list[dict[str, Any]], *, guild_id: str | None = None
    ) -> Any:
        path = (
            f"/applications/{app_id}/guilds/{guild_id}/commands"
            if guild_id
            else f"/applications/{app_id}/commands"
        )
        return await self.request("PUT", path, json=commands)

    async def gateway_url(self) -> str:
        found = await self.request("GET", "/gateway/bot")
        return str(found["url"])


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.json()["retry_after"]))
    except (ValueError, KeyError, TypeError):
        try:
            return max(0.0, float(response.headers.get("Retry-After", "1")))
        except ValueError:
            return 1.0


def _api_error(response: httpx.Response) -> DiscordAPIError:
    try:
        body = response.json()
        code, message = int(body.get("code", 0)), str(body.get("message", ""))
    except (ValueError, TypeError, AttributeError):
        code, message = 0, response.text[:200]
    return DiscordAPIError(response.status_code, code, message)
