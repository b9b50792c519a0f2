"""slack_sdk's installation and OAuth-state stores, kept in the hub's own tables (through the
hub's PlatformInstalls service).

Tokens are stored only encrypted (the hub's secret box). OAuth states are single use, expire,
and carry the hub team chosen by a signed install link; each is HMAC-signed so a state cannot
be forged or its team swapped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from hub.errors import SecretKeyChanged
from hub.platform_installs import PlatformInstalls
from hub.service import Hub
from hub.store.secretbox import SecretBoxError

PLATFORM = "slack"
log = logging.getLogger("connectors.slack.stores")


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, default=lambda v: v.timestamp() if isinstance(v, datetime) else str(v))


class HubInstallationStore(AsyncInstallationStore):
    def __init__(self, hub: Hub) -> None:
        self._installs = PlatformInstalls.for_hub(hub)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await self._put("installation", installation.to_dict_for_copying(), installation)
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        await self._put("bot", bot.to_dict_for_copying(), bot)

    async def _put(self, kind: str, data: dict[str, Any], source: Installation | Bot) -> None:
        enterprise = source.enterprise_id or ""
        workspace = "" if source.is_enterprise_install else source.team_id or ""
        user = (getattr(source, "user_id", "") or "") if kind == "installation" else ""
        await self._installs.save(
            PLATFORM,
            kind,
            enterprise_id=enterprise,
            workspace_id=workspace,
            user_id=user,
            data=_json(data),
        )

    async def _latest(
        self, kind: str, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> dict[str, Any] | None:
        try:
            found = await self._installs.latest(
                PLATFORM,
                kind,
                enterprise_id=enterprise_id or "",
                workspace_id=team_id or "",
                user_id=user_id,
            )
        except SecretBoxError as exc:
            log.error("slack workspace %s: its stored installation cannot be decrypted", team_id)
            raise SecretKeyChanged("this workspace's Slack installation") from exc
        return None if found is None else dict(json.loads(found))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        data = await self._latest("bot", enterprise_id, None if is_enterprise_install else team_id)
        return None if data is None else Bot(**data)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        team = None if is_enterprise_install else team_id
        data = await self._latest("installation", enterprise_id, team, user_id)
        return None if data is None else Installation(**data)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._delete("bot", enterprise_id, team_id, None)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self._delete("installation", enterprise_id, team_id, user_id)

    async def _delete(
        self, kind: str, enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> None:
        await self._installs.delete(
            PLATFORM,
            kind,
            enterprise_id=enterprise_id or "",
            workspace_id=team_id or "",
            user_id=user_id,
        )


@dataclass(frozen=True, slots=True)
class ConsumedState:
    team: str | None  # the hub team the install link named, if any


class HubOAuthStateStore(AsyncOAuthStateStore):
    def __init__(self, hub: Hub, *, key: str, ttl: timedelta = timedelta(minutes=10)) -> None:
        self._hub = hub
        self._installs = PlatformInstalls.for_hub(hub)
        self._key = key.encode()
        self._ttl = ttl

    @property
    def logger(self) -> logging.Logger:
        return log

    def _sign(self, nonce: str, team: str, expires_at: datetime) -> str:
        message = f"slack-oauth-state|{nonce}|{team}|{int(expires_at.timestamp())}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:40]

    async def async_issue(self, *args: Any, team: str | None = None, **kwargs: Any) -> str:
        nonce = secrets.token_urlsafe(24)
        expires_at = self._hub.clock.now() + self._ttl
        state = f"{nonce}.{self._sign(nonce, team or '', expires_at)}"
        await self._installs.add_state(PLATFORM, state, data=team or "", expires_at=expires_at)
        return state

    async def async_consume(self, state: str) -> bool:
        return await self.consume(state) is not None

    async def consume(self, state: str) -> ConsumedState | None:
        """The state's team once, if it is ours, unexpired and unused; else None."""
        nonce, _, signature = state.partition(".")
        team = await self._installs.consume_state(
            PLATFORM,
            state,
            genuine=lambda data, expires_at: hmac.compare_digest(
                self._sign(nonce, data, expires_at), signature
            ),
        )
        return None if team is None else ConsumedState(team=team or None)
