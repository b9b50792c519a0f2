"""The audit log: every administrative change, with who made it and before/after values.

Who is acting travels in a context variable, set once where a change enters the hub: the CLI
(the operating-system user), the admin API (the key), a chat command (the platform user).
Services record inside the same transaction as the change, so neither exists without the other.
"""

from __future__ import annotations

import contextvars
import getpass
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.store.governance_tables import AuditEntry

REDACTED = "[redacted]"
# The fields that hold secrets, by name: an explicit list, so a quota's `token_limit` or a
# usage figure named `tokens` is recorded as it is. A new secret field is added here.
SECRET_FIELDS = frozenset(
    {
        "api_key",
        "key",
        "secret",
        "secret_hash",
        "previous_hash",
        "secret_encrypted",
        "previous_secret_encrypted",
        "data_encrypted",
        "bot_token",
        "app_token",
        "access_token",
        "refresh_token",
        "signing_secret",
        "client_secret",
        "webhook_secret",
        "password",
    }
)


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # cli | key | operator | slack | discord | dashboard | system
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def cli(cls) -> Actor:
        try:
            user = getpass.getuser()
        except Exception:  # noqa: BLE001 - no login name (containers): still an actor
            user = "unknown"
        return cls("cli", user)


SYSTEM = Actor("system", "hub")
_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("audit_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _actor.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def redact(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """`values` with every field of SECRET_FIELDS (at any depth) replaced by REDACTED."""
    if values is None:
        return None
    return {k: _redacted(k, v) for k, v in values.items()}


def _redacted(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name.lower() in SECRET_FIELDS:
        return REDACTED
    if isinstance(value, Mapping):
        return redact(value)
    return value


async def record(
    session: AsyncSession,
    *,
    now: datetime,
    action: str,
    team_id: int | None,
    target: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    def dump(values: Mapping[str, Any] | None) -> str | None:
        cleaned = redact(values)
        return None if cleaned is None else json.dumps(cleaned, default=str, sort_keys=True)

    await session.execute(
        insert(AuditEntry).values(
            at=now,
            actor=str(current_actor()),
            team_id=team_id,
            action=action,
            target=target,
            before=dump(before),
            after=dump(after),
        )
    )


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    team_id: int | None
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "team_id": self.team_id,
            "action": self.action,
            "target": self.target,
            "before": self.before,
            "after": self.after,
        }


class AuditLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def note(
        self,
        *,
        action: str,
        target: str,
        team_id: int | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        """Write one entry in its own transaction, for events that change nothing else (a
        dashboard lockout); the actor is the current one (`acting_as`)."""
        async with self._sessions.begin() as session:
            await record(
                session,
                now=self._clock.now(),
                action=action,
                team_id=team_id,
                target=target,
                after=after,
            )

    async def entries(
        self,
        *,
        team_id: int | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[AuditRecord]:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if team_id is not None:
            query = query.where(AuditEntry.team_id == team_id)
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        async with self._sessions() as session:
            rows = await session.scalars(query.limit(limit))
            return [_record(r) for r in rows]

    async def page(
        self,
        *,
        team_id: int,
        before_id: int | None = None,
        action: str = "",
        actor: str = "",
        target: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
    ) -> list[AuditRecord]:
        """One page of a team's log, newest first: entries older than `before_id` (the last
        id of the previous page, so pages do not shift as entries arrive). `action` matches
        an action or its family (`key` matches `key.create`, `key.revoke`...); `actor` and
        `target` match exactly; `since` is inclusive and `until` exclusive."""
        query = select(AuditEntry).where(AuditEntry.team_id == team_id)
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)
        if action:
            query = query.where(
                or_(
                    AuditEntry.action == action,
                    AuditEntry.action.startswith(action + ".", autoescape=True),
                )
            )
        if actor:
            query = query.where(AuditEntry.actor == actor)
        if target:
            query = query.where(AuditEntry.target == target)
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        if until is not None:
            query = query.where(AuditEntry.at < until)
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))
            return [_record(r) for r in rows]

    async def actions(self, *, team_id: int) -> list[str]:
        """The actions the team's log holds, for a filter's choices."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.team_id == team_id)
                .distinct()
                .order_by(AuditEntry.action)
            )
            return list(rows)


def _record(r: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=r.id,
        at=r.at,
        actor=r.actor,
        team_id=r.team_id,
        action=r.action,
        target=r.target,
        before=json.loads(r.before) if r.before else None,
        after=json.loads(r.after) if r.after else None,
    )
