"""What every team-administration page shares: which team it administers, who acts, and how
a page is drawn with its form state.

The operator administers any team, chosen with `team=<name>` (a switcher on every page); a
team's admin administers only their own team, and another team's name or object is reported
exactly like a missing one (404). Every change runs with the signed-in viewer as the audit
log's actor (`hub.audit.acting_as`), through the same hub services as the admin API, so the
log reads the same whichever door a change came through.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from connectors.dashboard.admin_forms import FormState
from connectors.dashboard.i18n import N_
from connectors.dashboard.kit import Kit
from connectors.dashboard.refusal import Missing
from connectors.dashboard.sessions import Viewer
from hub.audit import Actor, acting_as
from hub.errors import Forbidden, NotFound
from hub.roles import allows
from hub.store.ledger_tables import ApiKey, Member, Team

MAX_ID = 2**63 - 1
POWERFUL = ("admin", "owner")  # roles only an owner (or the operator) grants, takes or issues

# The administration pages, in the order of their sub-navigation.
SECTIONS = (
    ("members", "/team/members", N_("Members")),
    ("keys", "/team/keys", N_("Keys")),
    ("limits", "/team/limits", N_("Quotas and limits")),
    ("bindings", "/team/bindings", N_("Chat platforms")),
    ("events", "/team/events", N_("Event subscriptions")),
    ("audit", "/team/audit", N_("Audit log")),
)


def actor_of(viewer: Viewer) -> Actor:
    """The audit actor of a dashboard change: the key signed in, as the admin API writes it
    for the same key, so one key's changes read alike through either door."""
    if viewer.team is None:
        return Actor("operator", "dashboard")
    if viewer.key_id is not None:
        return Actor("key", str(viewer.key_id))
    return Actor("dashboard", f"member:{viewer.member_id}")  # signed in as a member (SSO)


@dataclass(slots=True)
class Admin:
    """What an administration handler gets: the kit, the request, the viewer and the team."""

    kit: Kit
    request: web.Request
    viewer: Viewer
    team: Team
    section: str = ""
    teams: list[Team] = field(default_factory=list)  # the operator's switcher

    def _(self, message: str) -> str:
        return self.kit.gettext(self.request, message)

    @property
    def language(self) -> str:
        return self.kit.language(self.request)

    def url(self, path: str, **params: str) -> str:
        """`path` for this team: the operator's URLs carry `team=`, a team admin's need not."""
        query = {"team": self.team.name} if self.viewer.is_operator else {}
        query.update({k: v for k, v in params.items() if v})
        return path + ("?" + urlencode(query) if query else "")

    def done(self, path: str, code: str) -> web.HTTPSeeOther:
        """After a change: back to the page (post/redirect/get), saying what was done."""
        return web.HTTPSeeOther(self.url(path, done=code))

    @property
    def may_manage_admins(self) -> bool:
        return allows(self.viewer.role, "manage_admins")

    def require_owner_for(self, *roles: str) -> None:
        """Admin and owner roles and keys are an owner's business, as in the admin API."""
        if any(role in POWERFUL for role in roles) and not self.may_manage_admins:
            raise Forbidden(
                self._("Only a team owner may grant, take or issue the admin and owner roles.")
            )

    def page(
        self,
        name: str,
        *,
        title: str,
        status: int = 200,
        state: FormState | None = None,
        notices: Mapping[str, str] | None = None,
        **context: Any,
    ) -> web.Response:
        done = (notices or {}).get(self.request.query.get("done", ""), "")
        return self.kit.page(
            self.request, name, status=status, viewer=self.viewer, title=title, team=self.team,
            teams=self.teams, section=self.section, sections=SECTIONS, url=self.url,
            state=state or FormState(), done=done, may_manage_admins=self.may_manage_admins,
            once=secrets.token_urlsafe(18), **context,
        )  # fmt: skip

    async def member(self, raw: str) -> Member:
        """A member of this team; another team's is reported as missing."""
        member_id = _id(raw)
        try:
            found = await self.kit.hub.members.get_by_id(member_id)
        except NotFound:
            found = None
        if found is None or found.team_id != self.team.id:
            raise NotFound(self._("This team has no such member."))
        return found

    async def key(self, raw: str) -> ApiKey:
        """A key of this team; another team's is reported as missing."""
        key_id = _id(raw)
        try:
            found = await self.kit.hub.keys.get(key_id)
        except NotFound:
            found = None
        if found is None or found.team_id != self.team.id:
            raise NotFound(self._("This team has no such key."))
        return found


def _id(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not 1 <= int(raw) <= MAX_ID:
        raise Missing(N_("No such item."))
    return int(raw)


AdminHandler = Callable[[Admin], Awaitable[web.StreamResponse]]


class AdminGuard:
    """Wraps administration handlers: signed in, an admin (viewers are refused, 403), the team
    resolved (404 for another team's), and the viewer acting for the audit log."""

    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def __call__(self, handler: AdminHandler, *, section: str, form: bool = False) -> Any:
        async def inner(request: web.Request, viewer: Viewer) -> web.StreamResponse:
            team = await self.team_of(request, viewer)
            if team is None:
                return await self.pick(request, viewer)
            teams = await self.kit.hub.teams.list() if viewer.is_operator else []
            admin = Admin(self.kit, request, viewer, team, section=section, teams=teams)
            with acting_as(actor_of(viewer)):
                return await handler(admin)

        return self.kit.signed_in(inner, form=form, changes=True)

    async def team_of(self, request: web.Request, viewer: Viewer) -> Team | None:
        """The administered team; None: the operator has not chosen one yet."""
        name = request.query.get("team", "")
        if viewer.team is not None:
            if name and name != viewer.team.name:
                raise NotFound(self.kit.gettext(request, N_("No such team.")))
            return await self.kit.hub.teams.get_by_id(viewer.team.id)
        if not name:
            if request.method != "GET":
                raise NotFound(self.kit.gettext(request, N_("No such team.")))
            return None
        try:
            return await self.kit.hub.teams.get(name)
        except NotFound:
            raise NotFound(self.kit.gettext(request, N_("No such team."))) from None

    async def pick(self, request: web.Request, viewer: Viewer) -> web.Response:
        """The operator's first step: which team to administer."""
        teams = await self.kit.hub.teams.list()
        return self.kit.page(
            request, "admin_pick.html", viewer=viewer,
            title=self.kit.gettext(request, N_("Team administration")),
            teams=teams, target=request.path,
            links={t.name: request.path + "?" + urlencode({"team": t.name}) for t in teams},
        )  # fmt: skip
