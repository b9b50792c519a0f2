"""Chat platforms' app installations (stored only encrypted) and their single-use OAuth
states, in the hub's own tables: the service behind Slack's installation and state stores."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.store.platform_tables import Installation, OAuthState
from hub.store.secretbox import SecretBox

if TYPE_CHECKING:
    from hub.service import Hub


class PlatformInstalls:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, box: SecretBox
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._box = box

    @classmethod
    def for_hub(cls, hub: Hub) -> PlatformInstalls:
        return cls(hub.sessions, hub.clock, hub.secrets)

    async def save(
        self,
        platform: str,
        kind: str,
        *,
        enterprise_id: str,
        workspace_id: str,
        user_id: str,
        data: str,
    ) -> None:
        """Replace the installation of this kind for this place with `data` (encrypted)."""
        async with self._sessions.begin() as session:
            await session.execute(
                delete(Installation).where(
                    Installation.platform == platform,
                    Installation.kind == kind,
                    Installation.enterprise_id == enterprise_id,
                    Installation.workspace_id == workspace_id,
                    Installation.user_id == user_id,
                )
            )
            session.add(
                Installation(
                    platform=platform,
                    kind=kind,
                    enterprise_id=enterprise_id,
                    workspace_id=workspace_id,
                    user_id=user_id,
                    data_encrypted=self._box.encrypt(data),
                    installed_at=self._clock.now(),
                )
            )

    async def latest(
        self,
        platform: str,
        kind: str,
        *,
        enterprise_id: str,
        workspace_id: str,
        user_id: str | None = None,
    ) -> str | None:
        """The newest installation's data, decrypted (SecretBoxError when the key changed)."""
        query = select(Installation.data_encrypted).where(
            *_one_install(platform, kind, enterprise_id, workspace_id, user_id)
        )
        query = query.order_by(Installation.installed_at.desc(), Installation.id.desc())
        async with self._sessions() as session:
            found = await session.scalar(query.limit(1))
        return None if found is None else self._box.decrypt(found)

    async def delete(
        self,
        platform: str,
        kind: str,
        *,
        enterprise_id: str,
        workspace_id: str,
        user_id: str | None = None,
    ) -> None:
        query = delete(Installation).where(
            *_one_install(platform, kind, enterprise_id, workspace_id, user_id)
        )
        async with self._sessions.begin() as session:
            await session.execute(query)

    async def add_state(
        self, platform: str, state: str, *, data: str, expires_at: datetime
    ) -> None:
        async with self._sessions.begin() as session:
            session.add(
                OAuthState(platform=platform, state=state, data=data, expires_at=expires_at)
            )

    async def consume_state(
        self, platform: str, state: str, *, genuine: Callable[[str, datetime], bool]
    ) -> str | None:
        """The state's data, once: None when it is unknown, used, expired, or `genuine(data,
        expires_at)` says it was not ours."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(OAuthState).where(OAuthState.platform == platform, OAuthState.state == state)
            )
            if row is None or row.consumed_at is not None or row.expires_at <= now:
                return None
            if not genuine(row.data, row.expires_at):
                return None
            # Marking consumed in the same transaction makes the state single use.
            done = await session.execute(
                update(OAuthState)
                .where(OAuthState.id == row.id, OAuthState.consumed_at.is_(None))
                .values(consumed_at=now)
            )
            if int(done.rowcount) != 1:  # type: ignore[attr-defined]
                return None
            return row.data


def _one_install(
    platform: str, kind: str, enterprise_id: str, workspace_id: str, user_id: str | None
) -> list[ColumnElement[bool]]:
    """The rows of one installation (a workspace's, or one user's in it)."""
    conditions = [
        Installation.platform == platform,
        Installation.kind == kind,
        Installation.enterprise_id == enterprise_id,
        Installation.workspace_id == workspace_id,
    ]
    if user_id is not None:
        conditions.append(Installation.user_id == user_id)
    return conditions
