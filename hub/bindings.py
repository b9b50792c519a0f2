"""Which hub team pays for a Slack workspace or Discord guild, and channel default models.

Both are read before Slack's and Discord's acks and change a few times a year: they are read
through the settings cache (hub/settings_cache.py), which forgets them as soon as a
transaction changing a binding, a team or a channel setting commits, here or in another
process.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import audit
from hub.clock import Clock
from hub.ledger.teams import require_active
from hub.model import Caller
from hub.settings_cache import SettingsCache
from hub.store.ledger_tables import Team
from hub.store.platform_tables import Binding, ChannelSetting


class Bindings:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        cache: SettingsCache | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._cache = cache

    async def bind(self, platform: str, external_id: str, team: Team) -> None:
        require_active(team)
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(Binding).where(
                    Binding.platform == platform, Binding.external_id == external_id
                )
            )
            before = None if row is None else {"team_id": row.team_id}
            if row is None:
                session.add(
                    Binding(
                        platform=platform,
                        external_id=external_id,
                        team_id=team.id,
                        created_at=self._clock.now(),
                    )
                )
            else:
                row.team_id = team.id
            await audit.record(
                session,
                now=self._clock.now(),
                action="binding.set",
                team_id=team.id,
                target=f"{platform}:{external_id}",
                before=before,
                after={"team_id": team.id},
            )

    async def unbind(self, platform: str, external_id: str) -> None:
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(Binding).where(
                    Binding.platform == platform, Binding.external_id == external_id
                )
            )
            if row is None:
                return
            await session.execute(delete(Binding).where(Binding.id == row.id))
            await audit.record(
                session,
                now=self._clock.now(),
                action="binding.remove",
                team_id=row.team_id,
                target=f"{platform}:{external_id}",
                before={"team_id": row.team_id},
            )

    async def caller_for(self, platform: str, external_id: str) -> Caller | None:
        """The paying team for a workspace or guild, or None when it is not bound."""
        if self._cache is None:
            return await self._caller_for(platform, external_id)
        return await self._cache.get(
            "bindings", (platform, external_id), lambda: self._caller_for(platform, external_id)
        )

    async def _caller_for(self, platform: str, external_id: str) -> Caller | None:
        async with self._sessions() as session:
            row = await session.execute(
                select(Team.id, Team.name)
                .join(Binding, Binding.team_id == Team.id)
                .where(Binding.platform == platform, Binding.external_id == external_id)
            )
            found = row.first()
        return None if found is None else Caller(team_id=found[0], team_name=found[1])

    async def list(self) -> list[tuple[str, str, str]]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(Binding.platform, Binding.external_id, Team.name)
                .join(Team, Team.id == Binding.team_id)
                .order_by(Binding.platform, Binding.external_id)
            )
            return [(p, e, t) for p, e, t in rows]


class ChannelDefaults:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        cache: SettingsCache | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._cache = cache

    async def get(self, platform: str, channel_id: str) -> str | None:
        if self._cache is None:
            return await self._get(platform, channel_id)
        return await self._cache.get(
            "channels", (platform, channel_id), lambda: self._get(platform, channel_id)
        )

    async def _get(self, platform: str, channel_id: str) -> str | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(ChannelSetting.default_alias).where(
                    ChannelSetting.platform == platform, ChannelSetting.channel_id == channel_id
                )
            )

    async def set(
        self, platform: str, channel_id: str, alias: str | None, *, team_id: int | None = None
    ) -> None:
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(ChannelSetting).where(
                    ChannelSetting.platform == platform, ChannelSetting.channel_id == channel_id
                )
            )
            await audit.record(
                session,
                now=self._clock.now(),
                action="channel.default_model",
                team_id=team_id,
                target=f"{platform}:{channel_id}",
                before=None if row is None else {"default_alias": row.default_alias},
                after={"default_alias": alias},
            )
            if row is None:
                session.add(
                    ChannelSetting(
                        platform=platform,
                        channel_id=channel_id,
                        default_alias=alias,
                        updated_at=self._clock.now(),
                    )
                )
            else:
                row.default_alias = alias
                row.updated_at = self._clock.now()
