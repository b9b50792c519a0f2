"""Team members, their roles, and the platform identities linked to them.

`resolve` is how a chat request finds its member: by the platform account that sent it. A
platform user who is not a member asks as the team (policy `open`) or is refused
(`members_only`).
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Awaitable, Callable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import audit
from hub.clock import Clock
from hub.errors import BadRequest, Forbidden, NotFound
from hub.ledger.member_status import MemberLimit, member_limits
from hub.model import Caller, Origin
from hub.roles import ROLES
from hub.store.ledger_tables import Member, MemberIdentity, Team

PLATFORMS = ("slack", "discord")
# Identities that only sign in to the dashboard: an OpenID Connect subject (workspace: the
# issuer) or a verified email address (workspace empty).
SIGNIN_PLATFORMS = ("oidc", "email")
LINKABLE = PLATFORMS + SIGNIN_PLATFORMS


class Members:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        on_remove: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        # Keys of a removed member lose their member (ON DELETE SET NULL): cached keys too.
        self._on_remove = on_remove

    async def add(self, team: Team, name: str, *, role: str = "member") -> Member:
        _check_role(role)
        async with self._sessions.begin() as session:
            member = Member(team_id=team.id, name=name, role=role, created_at=self._clock.now())
            session.add(member)
            try:
                await session.flush()
            except IntegrityError as exc:
                raise BadRequest(f"Team '{team.name}' already has a member '{name}'.") from exc
            await audit.record(
                session,
                now=self._clock.now(),
                action="member.add",
                team_id=team.id,
                target=f"member:{member.id}",
                after={"name": name, "role": role},
            )
        return member

    async def get(self, team: Team, name: str) -> Member:
        async with self._sessions() as session:
            member = await session.scalar(
                select(Member).where(Member.team_id == team.id, Member.name == name)
            )
        if member is None:
            raise NotFound(f"Team '{team.name}' has no member '{name}'.")
        return member

    async def get_by_id(self, member_id: int) -> Member:
        async with self._sessions() as session:
            member = await session.get(Member, member_id)
        if member is None:
            raise NotFound(f"No member with id {member_id}.")
        return member

    async def limits(self, member_id: int) -> builtins.list[MemberLimit]:
        """The member's own quotas with what is left of them this period, daily first (for
        `/ask usage` and `/usage`); empty when the member has none."""
        return await member_limits(self._sessions, self._clock, member_id=member_id)

    async def list(self, team: Team) -> builtins.list[tuple[Member, builtins.list[str]]]:
        async with self._sessions() as session:
            members = builtins.list(
                await session.scalars(
                    select(Member).where(Member.team_id == team.id).order_by(Member.name)
                )
            )
            identities = await session.scalars(
                select(MemberIdentity).where(MemberIdentity.member_id.in_([m.id for m in members]))
            )
            linked: dict[int, builtins.list[str]] = {}
            for identity in identities:
                linked.setdefault(identity.member_id, []).append(_identity_name(identity))
        return [(m, sorted(linked.get(m.id, []))) for m in members]

    async def set_role(self, member: Member, role: str) -> None:
        _check_role(role)
        async with self._sessions.begin() as session:
            # Locked, so a removal running meanwhile either finishes first (None) or waits.
            row = await session.get(Member, member.id, with_for_update=True)
            if row is None:  # removed since the caller looked it up
                raise NotFound(f"No member with id {member.id}.")
            before = {"role": row.role}
            row.role = role
            await audit.record(
                session,
                now=self._clock.now(),
                action="member.role",
                team_id=row.team_id,
                target=f"member:{row.id}",
                before=before,
                after={"role": role},
            )

    async def remove(self, member: Member) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(Member).where(Member.id == member.id))
            await audit.record(
                session,
                now=self._clock.now(),
                action="member.remove",
                team_id=member.team_id,
                target=f"member:{member.id}",
                before={"name": member.name, "role": member.role},
            )
        if self._on_remove is not None:
            await self._on_remove()

    async def link(self, member: Member, *, platform: str, workspace: str, user: str) -> None:
        """Link a platform account (Slack user in a workspace, Discord user in a guild), or an
        identity for signing in to the dashboard (`oidc` subject of an issuer, `email`)."""
        if platform not in LINKABLE:
            raise BadRequest(f"A platform is one of: {', '.join(LINKABLE)}.")
        if platform == "email":
            user = user.strip().lower()
        if platform == "oidc":  # the issuer as the dashboard's settings normalise it
            workspace = workspace.rstrip("/")
        async with self._sessions.begin() as session:
            session.add(
                MemberIdentity(
                    member_id=member.id,
                    platform=platform,
                    workspace=workspace,
                    external_user_id=user,
                )
            )
            try:
                await session.flush()
            except IntegrityError as exc:
                raise BadRequest(f"{platform} user {user} is already linked to a member.") from exc
            await audit.record(
                session,
                now=self._clock.now(),
                action="member.link",
                team_id=member.team_id,
                target=f"member:{member.id}",
                after={"platform": platform, "workspace": workspace, "user": user},
            )

    async def find_by_identity(
        self, *, platform: str, workspace: str, user: str, team_id: int
    ) -> Member | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(Member)
                .join(MemberIdentity, MemberIdentity.member_id == Member.id)
                .where(
                    Member.team_id == team_id,
                    MemberIdentity.platform == platform,
                    MemberIdentity.workspace.in_([workspace, ""]),
                    MemberIdentity.external_user_id == user,
                )
            )

    async def signing_in(
        self, *, platform: str, user: str, workspace: str | None = None
    ) -> builtins.list[Member]:
        """The members, in any team, that the identity signs in as: linked for `workspace`
        or for any workspace (linked with none); `workspace=None` matches every link. A
        person may belong to several teams: one member in each."""
        if platform == "email":
            user = user.strip().lower()
        query = (
            select(Member)
            .join(MemberIdentity, MemberIdentity.member_id == Member.id)
            .where(MemberIdentity.platform == platform, MemberIdentity.external_user_id == user)
            .order_by(Member.team_id, Member.id)
        )
        if workspace is not None:
            query = query.where(MemberIdentity.workspace.in_([workspace, ""]))
        async with self._sessions() as session:
            return builtins.list(dict.fromkeys(await session.scalars(query)))

    async def resolve(self, caller: Caller, origin: Origin) -> tuple[Caller, str]:
        """The caller with its member, and the role it acts with, for a chat request."""
        if caller.key_id is not None or origin.connector not in PLATFORMS or not origin.user:
            role = "member"
            if caller.member_id is not None:
                role = (await self.get_by_id(caller.member_id)).role
            return caller, role
        member = await self.find_by_identity(
            platform=origin.connector,
            workspace=origin.workspace or "",
            user=origin.user,
            team_id=caller.team_id,
        )
        if member is not None:
            return dataclasses.replace(caller, member_id=member.id), member.role
        async with self._sessions() as session:
            policy = await session.scalar(
                select(Team.member_policy).where(Team.id == caller.team_id)
            )
        if policy == "members_only":
            raise Forbidden(
                f"Only members of team '{caller.team_name}' may ask here; ask a team admin "
                "to add you (hub member add, then hub member link)."
            )
        return caller, "member"


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise BadRequest(f"A role is one of: {', '.join(ROLES)}.")


def _identity_name(identity: MemberIdentity) -> str:
    where = f"{identity.workspace}/" if identity.workspace else ""
    return f"{identity.platform}:{where}{identity.external_user_id}"
