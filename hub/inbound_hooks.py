"""Inbound hooks: an id in the URL, the team that pays, and a signing secret (encrypted).

A hub service (the webhooks connector, the CLI and the admin API reach it through
`InboundHooks.for_hub`), so no connector needs the session factory or the tables."""

from __future__ import annotations

import builtins
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.errors import NotFound, SecretKeyChanged
from hub.events.signing import new_webhook_secret
from hub.ledger.teams import require_active
from hub.store.event_tables import InboundHook
from hub.store.ledger_tables import Team
from hub.store.secretbox import SecretBox, SecretBoxError

if TYPE_CHECKING:
    from hub.service import Hub

# The connector's logger name, as before the service moved into the core.
log = logging.getLogger("connectors.webhooks")


@dataclass(frozen=True, slots=True)
class HookInfo:
    id: str
    team_id: int
    team_name: str
    name: str
    default_model: str | None
    secret_encrypted: str
    previous_secret_encrypted: str | None
    previous_valid_until: datetime | None
    created_at: datetime

    @property
    def url(self) -> str:
        return f"/hooks/{self.id}"


@dataclass(frozen=True, slots=True)
class IssuedHook:
    hook: HookInfo
    secret: str  # the only time it is shown


def _info(row: InboundHook, team_name: str) -> HookInfo:
    return HookInfo(
        id=row.id,
        team_id=row.team_id,
        team_name=team_name,
        name=row.name,
        default_model=row.default_model,
        secret_encrypted=row.secret_encrypted,
        previous_secret_encrypted=row.previous_secret_encrypted,
        previous_valid_until=row.previous_valid_until,
        created_at=row.created_at,
    )


class InboundHooks:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, clock: Clock, secrets_box: SecretBox
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._box = secrets_box

    @classmethod
    def for_hub(cls, hub: Hub) -> InboundHooks:
        return cls(hub.sessions, clock=hub.clock, secrets_box=hub.secrets)

    async def create(self, team: Team, *, name: str = "", model: str | None = None) -> IssuedHook:
        require_active(team)
        secret = new_webhook_secret()
        row = InboundHook(
            id="hk_" + secrets.token_hex(10),
            team_id=team.id,
            name=name,
            default_model=model,
            secret_encrypted=self._box.encrypt(secret),
            created_at=self._clock.now(),
        )
        async with self._sessions.begin() as session:
            session.add(row)
        return IssuedHook(_info(row, team.name), secret)

    async def find(self, hook_id: str) -> HookInfo | None:
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(InboundHook, Team.name)
                    .join(Team, Team.id == InboundHook.team_id)
                    # An archived team's hooks answer as unknown ones: nothing is spent.
                    .where(InboundHook.id == hook_id, Team.archived_at.is_(None))
                )
            ).first()
        return None if found is None else _info(found[0], found[1])

    async def get(self, hook_id: str) -> HookInfo:
        hook = await self.find(hook_id)
        if hook is None:
            raise NotFound(f"No webhook with id '{hook_id}'.")
        return hook

    async def list(self, *, team_id: int | None = None) -> builtins.list[HookInfo]:
        query = select(InboundHook, Team.name).join(Team, Team.id == InboundHook.team_id)
        if team_id is not None:
            query = query.where(InboundHook.team_id == team_id)
        async with self._sessions() as session:
            rows = await session.execute(query.order_by(InboundHook.created_at))
            return [_info(row, team_name) for row, team_name in rows.all()]

    async def rotate(self, hook_id: str, *, grace: timedelta) -> IssuedHook:
        """A new secret; the current one keeps verifying for `grace`."""
        secret = new_webhook_secret()
        async with self._sessions.begin() as session:
            row = await session.get(InboundHook, hook_id)
            if row is None:
                raise NotFound(f"No webhook with id '{hook_id}'.")
            row.previous_secret_encrypted = row.secret_encrypted
            row.previous_valid_until = self._clock.now() + grace
            row.secret_encrypted = self._box.encrypt(secret)
        return IssuedHook(await self.get(hook_id), secret)

    async def delete(self, hook_id: str) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(InboundHook, hook_id)
            if row is None:
                raise NotFound(f"No webhook with id '{hook_id}'.")
            await session.delete(row)

    def valid_secrets(self, hook: HookInfo) -> builtins.list[str]:
        """The current secret, and the previous one while its grace period lasts."""
        try:
            valid = [self._box.decrypt(hook.secret_encrypted)]
            if (
                hook.previous_secret_encrypted
                and hook.previous_valid_until is not None
                and hook.previous_valid_until > self._clock.now()
            ):
                valid.append(self._box.decrypt(hook.previous_secret_encrypted))
        except SecretBoxError as exc:
            log.error("webhook %s: its stored secret cannot be decrypted: %s", hook.id, exc)
            raise SecretKeyChanged("this webhook's signing secret") from exc
        return valid
