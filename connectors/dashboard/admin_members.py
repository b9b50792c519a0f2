"""Members and roles: add, change a role, remove, link a Slack or Discord account, and the
team's member policy. Only an owner (or the operator) grants or takes admin and owner."""

from __future__ import annotations

from aiohttp import web

from connectors.dashboard.admin_forms import Form, FormError
from connectors.dashboard.admin_scope import Admin, AdminGuard
from connectors.dashboard.i18n import N_, ROLE_NAMES
from hub.errors import BadRequest, Forbidden, NotFound
from hub.ledger.teams import POLICIES
from hub.members import PLATFORMS
from hub.roles import ROLES

PAGE = "/team/members"
NOTICES = {
    "added": N_("Member added."),
    "role": N_("Role changed."),
    "removed": N_("Member removed."),
    "linked": N_("Account linked."),
    "policy": N_("Member policy saved."),
}


class MembersPages:
    def __init__(self, guard: AdminGuard) -> None:
        self._guard = guard

    def routes(self) -> list[web.RouteDef]:
        g = self._guard
        return [
            web.get(PAGE, g(self.show, section="members")),
            web.post(PAGE, g(self.add, section="members", form=True)),
            web.post(PAGE + "/policy", g(self.policy, section="members", form=True)),
            web.post(PAGE + "/{member_id}/role", g(self.set_role, section="members", form=True)),
            web.post(PAGE + "/{member_id}/remove", g(self.remove, section="members", form=True)),
            web.post(PAGE + "/link", g(self.link, section="members", form=True)),
        ]

    async def show(
        self, admin: Admin, *, form: Form | None = None, error: FormError | None = None
    ) -> web.Response:
        members = await admin.kit.hub.members.list(admin.team)
        grantable = [r for r in ROLES if r not in ("admin", "owner") or admin.may_manage_admins]
        return admin.page(
            "admin_members.html", title=admin._("Members"),
            status=200 if error is None else error.status,
            state=None if form is None or error is None else form.state(error),
            notices={k: admin._(v) for k, v in NOTICES.items()},
            members=members, roles=ROLES,
            grantable=[(r, admin._(ROLE_NAMES[r])) for r in grantable],
            member_options=[(str(m.id), m.name) for m, _ in members],
        )  # fmt: skip

    async def _form(self, admin: Admin, name: str) -> Form:
        return Form.of(name, await admin.request.post(), admin._)

    async def add(self, admin: Admin) -> web.StreamResponse:
        form = await self._form(admin, "add")
        try:
            name = form.text("name", required=True, max_len=200)
            role = form.choice("role", ROLES)
            _owner_only(admin, role)
            try:
                await admin.kit.hub.members.get(admin.team, name)
            except NotFound:
                pass
            else:
                raise FormError("name", admin._("This team already has a member with that name."))
            try:
                await admin.kit.hub.members.add(admin.team, name, role=role)
            except BadRequest as exc:  # added meanwhile by someone else
                raise FormError("name", exc.user_message) from None
        except FormError as error:
            return await self.show(admin, form=form, error=error)
        raise admin.done(PAGE, "added")

    async def set_role(self, admin: Admin) -> web.StreamResponse:
        member = await admin.member(admin.request.match_info["member_id"])
        form = await self._form(admin, f"role-{member.id}")
        try:
            role = form.choice("role", ROLES)
            _owner_only(admin, member.role, role)
            await admin.kit.hub.members.set_role(member, role)
        except FormError as error:
            return await self.show(admin, form=form, error=error)
        raise admin.done(PAGE, "role")

    async def remove(self, admin: Admin) -> web.StreamResponse:
        member = await admin.member(admin.request.match_info["member_id"])
        form = await self._form(admin, f"remove-{member.id}")
        try:
            _owner_only(admin, member.role)
        except FormError as error:
            return await self.show(admin, form=form, error=error)
        await admin.kit.hub.members.remove(member)
        raise admin.done(PAGE, "removed")

    async def link(self, admin: Admin) -> web.StreamResponse:
        form = await self._form(admin, "link")
        member = await admin.member(form.raw("member"))
        try:
            platform = form.choice("platform", PLATFORMS)
            workspace = form.text("workspace", max_len=100)
            user = form.text("user", required=True, max_len=100)
            try:
                await admin.kit.hub.members.link(
                    member, platform=platform, workspace=workspace, user=user
                )
            except BadRequest as exc:  # already linked to a member
                raise FormError("user", exc.user_message) from None
        except FormError as error:
            return await self.show(admin, form=form, error=error)
        raise admin.done(PAGE, "linked")

    async def policy(self, admin: Admin) -> web.StreamResponse:
        form = await self._form(admin, "policy")
        try:
            policy = form.choice("member_policy", POLICIES)
        except FormError as error:
            return await self.show(admin, form=form, error=error)
        await admin.kit.hub.teams.set_policy(admin.team, policy)
        raise admin.done(PAGE, "policy")


def _owner_only(admin: Admin, *roles: str) -> None:
    try:
        admin.require_owner_for(*roles)
    except Forbidden as exc:
        raise FormError("role", exc.user_message, status=403) from None
