"""Team API keys: shown once, stored as a SHA-256 hash with a visible prefix."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.errors import AuthError, KeyExpired, KeyRevoked, NotFound
from hub.events.outbox import EventSink
from hub.model import Caller
from hub.store.ledger_tables import ApiKey, Team

KEY_PREFIX = "uh-"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> tuple[str, str]:
    """A fresh key and its visible prefix: `uh-<8 id chars>_<43 secret chars>`."""
    public = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{public}_{secrets.token_urlsafe(32)}"
    return secret, f"{KEY_PREFIX}{public}"


@dataclass(frozen=True, slots=True)
class IssuedKey:
    id: int
    team: str
    name: str
    prefix: str
    key: str  # the only time the secret exists outside the caller's hands


@dataclass(frozen=True, slots=True)
class AuthenticatedKey:
    caller: Caller
    key: ApiKey


class Keys:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, events: EventSink
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._events = events

    async def create(
        self,
        team: Team,
        *,
        name: str = "",
        role: str = "member",
        expires_at: datetime | None = None,
    ) -> IssuedKey:
        secret, prefix = new_secret()
        async with self._sessions.begin() as session:
            row = ApiKey(
                team_id=team.id,
                name=name,
                role=role,
                prefix=prefix,
                secret_hash=hash_secret(secret),
                created_at=self._clock.now(),
                expires_at=expires_at,
            )
            session.add(row)
            await session.flush()
            await self._events.emit(
                session, team_id=team.id, type="key.created", data=_key_event(row, team.name)
            )
        return IssuedKey(id=row.id, team=team.name, name=name, prefix=prefix, key=secret)

    async def list(self, team: Team | None = None) -> list[tuple[ApiKey, str]]:
        async with self._sessions() as session:
            query = select(ApiKey, Team.name).join(Team, Team.id == ApiKey.team_id)
            if team is not None:
                query = query.where(ApiKey.team_id == team.id)
            rows = await session.execute(query.order_by(ApiKey.id))
            return [(key, team_name) for key, team_name in rows.tuples()]

    async def revoke(self, key_id: int) -> ApiKey:
        async with self._sessions.begin() as session:
            row = await session.get(ApiKey, key_id)
            if row is None:
                raise NotFound(f"No key with id {key_id}.")
            if row.revoked_at is None:
                row.revoked_at = self._clock.now()
                team = await session.get(Team, row.team_id)
                assert team is not None
                await self._events.emit(
                    session,
                    team_id=row.team_id,
                    type="key.revoked",
                    data=_key_event(row, team.name),
                )
        return row

    async def authenticate(self, secret: str) -> AuthenticatedKey:
        """Resolve a presented secret to its team; refuses unknown, revoked and expired keys."""
        if not secret.startswith(KEY_PREFIX):
            raise AuthError("Invalid API key.")
        digest = hash_secret(secret)
        now = self._clock.now()
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(ApiKey, Team.name)
                    .join(Team, Team.id == ApiKey.team_id)
                    .where(or_(ApiKey.secret_hash == digest, ApiKey.previous_hash == digest))
                )
            ).first()
            if found is None:
                raise AuthError("Invalid API key.")
            row, team_name = found
            if row.revoked_at is not None:
                raise KeyRevoked(f"This API key ({row.prefix}) was revoked.")
            if row.expires_at is not None and row.expires_at <= now:
                raise KeyExpired(
                    f"This API key ({row.prefix}) expired on {row.expires_at:%Y-%m-%d}."
                )
            current = hmac.compare_digest(row.secret_hash, digest)
            if not current and (
                row.previous_valid_until is None or row.previous_valid_until <= now
            ):
                raise KeyExpired(
                    f"This API key ({row.prefix}) was rotated; its old secret is no longer valid."
                )
            # Written at most once a minute per key, so authentication stays a read.
            if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
                await session.execute(
                    update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now)
                )
                await session.commit()
        return AuthenticatedKey(
            caller=Caller(
                team_id=row.team_id, team_name=team_name, key_id=row.id, member_id=row.member_id
            ),
            key=row,
        )


def _key_event(row: ApiKey, team_name: str) -> dict[str, object]:
    return {
        "id": row.id,
        "team": team_name,
        "name": row.name,
        "prefix": row.prefix,
        "created_at": row.created_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }
