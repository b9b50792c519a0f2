"""Teams' own provider credentials (bring your own key), encrypted at rest, never shown."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import audit
from hub.clock import Clock
from hub.errors import BadRequest, NotFound, SecretKeyChanged
from hub.store.governance_tables import ProviderKey
from hub.store.ledger_tables import Team
from hub.store.secretbox import SecretBox, SecretBoxError
from hub.ttl_cache import TTLCache


class ProviderKeys:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        secrets: SecretBox,
        providers: frozenset[str],
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._secrets = secrets
        self._providers = providers
        self._cache: TTLCache[int, dict[str, str]] = TTLCache(clock, ttl_s=5.0)

    async def set(self, team: Team, provider: str, secret: str) -> None:
        if provider not in self._providers:
            raise BadRequest(
                f"No provider named '{provider}'; configured: {', '.join(sorted(self._providers))}."
            )
        secret = secret.strip()
        if not secret:
            raise BadRequest("The provider key is empty.")
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(ProviderKey).where(
                    ProviderKey.team_id == team.id, ProviderKey.provider == provider
                )
            )
            existed = row is not None
            if row is None:
                row = ProviderKey(team_id=team.id, provider=provider, created_at=now)
                session.add(row)
            row.secret_encrypted = self._secrets.encrypt(secret)
            row.updated_at = now
            await audit.record(
                session,
                now=now,
                action="provider_key.set",
                team_id=team.id,
                target=f"provider:{provider}",
                before={"api_key": "set"} if existed else None,
                after={"api_key": "set"},
            )
        self._cache.invalidate(team.id)

    async def delete(self, team: Team, provider: str) -> None:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ProviderKey).where(
                    ProviderKey.team_id == team.id, ProviderKey.provider == provider
                )
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                raise NotFound(f"Team '{team.name}' has no key of its own for '{provider}'.")
            await audit.record(
                session,
                now=self._clock.now(),
                action="provider_key.delete",
                team_id=team.id,
                target=f"provider:{provider}",
                before={"api_key": "set"},
            )
        self._cache.invalidate(team.id)

    async def providers_with_keys(self, team: Team) -> list[str]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ProviderKey.provider).where(ProviderKey.team_id == team.id)
            )
            return sorted(rows)

    async def for_team(self, team_id: int) -> dict[str, str]:
        """Decrypted keys by provider name, for the router; empty when the team has none.
        Read on every request, so cached briefly (another process's change shows in 5 s)."""
        return await self._cache.get(team_id, lambda: self._load(team_id))

    async def _load(self, team_id: int) -> dict[str, str]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(ProviderKey.provider, ProviderKey.secret_encrypted).where(
                    ProviderKey.team_id == team_id
                )
            )
            try:
                return {provider: self._secrets.decrypt(token) for provider, token in rows}
            except SecretBoxError as exc:
                raise SecretKeyChanged("the team's own provider key") from exc
