"""Teams, their policies and their quotas."""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import audit
from hub.clock import Clock
from hub.errors import BadRequest, Forbidden, NotFound
from hub.events.subscriptions import CALLBACK_SOURCE
from hub.store.event_tables import Subscription
from hub.store.ledger_tables import ApiKey, Member, Quota, Team
from hub.store.platform_tables import Binding

POLICIES = ("open", "members_only")


@dataclass(frozen=True, slots=True)
class QuotaSpec:
    scope: str  # team | member | key
    scope_id: int
    window: str  # day | month
    cost_limit_micros: int | None
    token_limit: int | None


class Teams:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        on_keys_changed: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        # Renaming or archiving changes what authenticated keys carry (hub/ledger/key_cache).
        self._on_keys_changed = on_keys_changed

    async def create(
        self,
        name: str,
        *,
        monthly_budget_micros: int | None = None,
        monthly_token_quota: int | None = None,
    ) -> Team:
        name = name.strip()
        if not name or len(name) > 100:
            raise BadRequest("A team name must be 1 to 100 characters.")
        async with self._sessions.begin() as session:
            team = Team(name=name, member_policy="open", created_at=self._clock.now())
            session.add(team)
            try:
                await session.flush()
            except IntegrityError as exc:
                raise BadRequest(f"A team named '{name}' already exists.") from exc
            await audit.record(
                session,
                now=self._clock.now(),
                action="team.create",
                team_id=team.id,
                target=f"team:{team.name}",
                after={"name": team.name},
            )
            if monthly_budget_micros is not None or monthly_token_quota is not None:
                await set_quota_in(
                    session,
                    QuotaSpec("team", team.id, "month", monthly_budget_micros, monthly_token_quota),
                    team_id=team.id,
                    now=self._clock.now(),
                )
        return team

    async def get(self, name: str) -> Team:
        async with self._sessions() as session:
            team = await session.scalar(select(Team).where(Team.name == name))
        if team is None:
            raise NotFound(f"No team named '{name}'.")
        return team

    async def get_active(self, name: str) -> Team:
        """The team, refusing an archived one (for anything that would spend or issue)."""
        team = await self.get(name)
        require_active(team)
        return team

    async def rename(self, team: Team, new_name: str) -> Team:
        new_name = new_name.strip()
        if not new_name or len(new_name) > 100:
            raise BadRequest("A team name must be 1 to 100 characters.")
        async with self._sessions.begin() as session:
            row = await session.get(Team, team.id)
            if row is None:
                raise NotFound(f"No team with id {team.id}.")
            old = row.name
            if await session.scalar(select(Team.id).where(Team.name == new_name)) is not None:
                raise BadRequest(f"A team named '{new_name}' already exists.")
            row.name = new_name
            await audit.record(
                session,
                now=self._clock.now(),
                action="team.rename",
                team_id=row.id,
                target=f"team:{new_name}",
                before={"name": old},
                after={"name": new_name},
            )
        if self._on_keys_changed is not None:
            await self._on_keys_changed()
        return row

    async def archive(self, team: Team) -> ArchivedTeam:
        """Stop the team from spending, keeping its ledger: its keys are revoked, its
        workspaces and guilds unbound, its event subscriptions disabled, its inbound hooks
        answer 404; usage, invoices and the audit log stay readable."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await session.get(Team, team.id)
            if row is None:
                raise NotFound(f"No team with id {team.id}.")
            if row.archived_at is not None:
                raise BadRequest(f"Team '{row.name}' is already archived.")
            row.archived_at = now
            keys = await session.execute(
                update(ApiKey)
                .where(ApiKey.team_id == row.id, ApiKey.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            bindings = await session.execute(delete(Binding).where(Binding.team_id == row.id))
            subscriptions = await session.execute(
                update(Subscription)
                .where(
                    Subscription.team_id == row.id,
                    Subscription.active.is_(True),
                    Subscription.source != CALLBACK_SOURCE,
                )
                .values(active=False, disabled_reason="team archived")
            )
            archived = ArchivedTeam(
                name=row.name,
                keys_revoked=_count(keys),
                bindings_removed=_count(bindings),
                subscriptions_disabled=_count(subscriptions),
            )
            await audit.record(
                session,
                now=now,
                action="team.archive",
                team_id=row.id,
                target=f"team:{row.name}",
                before={"archived_at": None},
                after={"archived_at": now.isoformat(), **asdict(archived)},
            )
        if self._on_keys_changed is not None:
            await self._on_keys_changed()
        return archived

    async def get_by_id(self, team_id: int) -> Team:
        async with self._sessions() as session:
            team = await session.get(Team, team_id)
        if team is None:
            raise NotFound(f"No team with id {team_id}.")
        return team

    async def list(self) -> builtins.list[Team]:
        async with self._sessions() as session:
            return builtins.list(await session.scalars(select(Team).order_by(Team.name)))

    async def set_policy(self, team: Team, policy: str) -> None:
        if policy not in POLICIES:
            raise BadRequest(f"A member policy is one of: {', '.join(POLICIES)}.")
        await self._update(team, "team.policy", member_policy=policy)

    async def set_notice_channel(
        self, team: Team, *, platform: str | None, channel: str | None
    ) -> None:
        await self._update(team, "team.notify", notify_platform=platform, notify_channel=channel)

    async def _update(self, team: Team, action: str, **values: str | None) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(Team, team.id)
            if row is None:
                raise NotFound(f"No team with id {team.id}.")
            before = {k: getattr(row, k) for k in values}
            for k, v in values.items():
                setattr(row, k, v)
            await audit.record(
                session,
                now=self._clock.now(),
                action=action,
                team_id=row.id,
                target=f"team:{row.name}",
                before=before,
                after=values,
            )

    async def set_quota(self, spec: QuotaSpec, *, team_id: int) -> None:
        """Create or replace the limit for one scope and window; None limits mean unlimited."""
        async with self._sessions.begin() as session:
            await set_quota_in(session, spec, team_id=team_id, now=self._clock.now())

    async def quotas_for(self, scope: str, scope_id: int) -> builtins.list[Quota]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Quota).where(Quota.scope == scope, Quota.scope_id == scope_id)
            )
            return builtins.list(rows)

    async def quotas_of(self, team_id: int) -> builtins.list[Quota]:
        """Every quota of the team, its members and its keys (scope, scope id, window order)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Quota)
                .where(team_scopes(Quota, team_id))
                .order_by(Quota.scope, Quota.scope_id, Quota.window)
            )
            return builtins.list(rows)


def team_scopes(table: Any, team_id: int) -> Any:
    """Rows of a per-scope table (quotas, rate limits) that belong to the team, its members
    or its keys."""
    return or_(
        and_(table.scope == "team", table.scope_id == team_id),
        and_(
            table.scope == "member",
            table.scope_id.in_(select(Member.id).where(Member.team_id == team_id)),
        ),
        and_(
            table.scope == "key",
            table.scope_id.in_(select(ApiKey.id).where(ApiKey.team_id == team_id)),
        ),
    )


@dataclass(frozen=True, slots=True)
class ArchivedTeam:
    name: str
    keys_revoked: int
    bindings_removed: int
    subscriptions_disabled: int


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def require_active(team: Team) -> None:
    """Refuse to issue anything (keys, bindings, hooks) for an archived team."""
    if team.archived_at is not None:
        raise Forbidden(
            f"Team '{team.name}' is archived (since {team.archived_at:%Y-%m-%d}); "
            "its usage stays readable, but it cannot be given keys, bindings or hooks."
        )


async def set_quota_in(
    session: AsyncSession, spec: QuotaSpec, *, team_id: int, now: datetime
) -> None:
    if spec.window not in ("day", "month") or spec.scope not in ("team", "member", "key"):
        raise BadRequest("A quota is per day or per month, on a team, member or key.")
    for value in (spec.cost_limit_micros, spec.token_limit):
        if value is not None and value < 0:
            raise BadRequest("A quota cannot be negative.")
    existing = await session.scalar(
        select(Quota).where(
            Quota.scope == spec.scope,
            Quota.scope_id == spec.scope_id,
            Quota.window == spec.window,
        )
    )
    before = None
    if existing is None:
        session.add(
            Quota(
                scope=spec.scope,
                scope_id=spec.scope_id,
                window=spec.window,
                cost_limit_micros=spec.cost_limit_micros,
                token_limit=spec.token_limit,
            )
        )
    else:
        before = {
            "cost_limit_micros": existing.cost_limit_micros,
            "token_limit": existing.token_limit,
        }
        existing.cost_limit_micros = spec.cost_limit_micros
        existing.token_limit = spec.token_limit
    after = asdict(spec)
    await audit.record(
        session,
        now=now,
        action="quota.set",
        team_id=team_id,
        target=f"{spec.scope}:{spec.scope_id}:{spec.window}",
        before=before,
        after={k: after[k] for k in ("cost_limit_micros", "token_limit")},
    )
