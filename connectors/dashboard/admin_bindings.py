"""Chat platforms: which Slack workspaces and Discord guilds the team pays for, and the
channel where its budget notices and weekly report go.

As in the admin API, a team admin cannot take a workspace another team holds (the operator,
or that team, must unbind it first); unbinding another team's workspace is not found."""

from __future__ import annotations

from aiohttp import web

from connectors.dashboard.admin_forms import Form, FormError
from connectors.dashboard.admin_scope import Admin, AdminGuard
from connectors.dashboard.i18n import N_
from hub.errors import NotFound
from hub.members import PLATFORMS

PAGE = "/team/bindings"
PLATFORM_NAMES = {"slack": "Slack", "discord": "Discord"}
NOTICES = {
    "bound": N_("Workspace bound."),
    "unbound": N_("Workspace unbound."),
    "notices": N_("Notice channel saved."),
}


class BindingsPages:
    def __init__(self, guard: AdminGuard) -> None:
        self._guard = guard

    def routes(self) -> list[web.RouteDef]:
        g = self._guard
        return [
            web.get(PAGE, g(self.show, section="bindings")),
            web.post(PAGE, g(self.bind, section="bindings", form=True)),
            web.post(PAGE + "/remove", g(self.unbind, section="bindings", form=True)),
            web.post("/team/notices", g(self.notices, section="bindings", form=True)),
        ]

    async def show(
        self, admin: Admin, *, form: Form | None = None, error: FormError | None = None
    ) -> web.Response:
        rows = await admin.kit.hub.bindings.list()
        team = admin.team
        return admin.page(
            "admin_bindings.html", title=admin._("Chat platforms"),
            status=200 if error is None else error.status,
            state=None if form is None or error is None else form.state(error),
            notices={k: admin._(v) for k, v in NOTICES.items()},
            bindings=[(p, e) for p, e, name in rows if name == team.name],
            platforms=list(PLATFORM_NAMES.items()), platform_names=PLATFORM_NAMES,
            notice_platforms=[("", admin._("(none)")), *PLATFORM_NAMES.items()],
        )  # fmt: skip

    async def bind(self, admin: Admin) -> web.StreamResponse:
        form = Form.of("bind", await admin.request.post(), admin._)
        hub = admin.kit.hub
        try:
            platform = form.choice("platform", PLATFORMS)
            external_id = form.text("external_id", required=True, max_len=100)
            current = await hub.bindings.caller_for(platform, external_id)
            if current is not None and current.team_id != admin.team.id:
                if not admin.viewer.is_operator:
                    raise FormError(
                        "external_id",
                        admin._("This workspace is bound to another team; the operator must "
                                "unbind it first."),
                        status=409,
                    )  # fmt: skip
            if current is None or current.team_id != admin.team.id:
                await hub.bindings.bind(platform, external_id, admin.team)
        except FormError as error:
            return await self.show(admin, form=form, error=error)
        raise admin.done(PAGE, "bound")

    async def unbind(self, admin: Admin) -> web.StreamResponse:
        form = Form.of("unbind", await admin.request.post(), admin._)
        try:
            platform = form.choice("platform", PLATFORMS)
            external_id = form.text("external_id", required=True, max_len=100)
        except FormError:  # not a binding anyone could have
            raise NotFound(admin._("This team has no such binding.")) from None
        current = await admin.kit.hub.bindings.caller_for(platform, external_id)
        if current is None or current.team_id != admin.team.id:
            raise NotFound(admin._("This team has no such binding."))
        await admin.kit.hub.bindings.unbind(platform, external_id)
        raise admin.done(PAGE, "unbound")

    async def notices(self, admin: Admin) -> web.StreamResponse:
        form = Form.of("notices", await admin.request.post(), admin._)
        try:
            platform = form.choice("platform", ("", *PLATFORMS))
            channel = form.text("channel", required=bool(platform), max_len=100)
        except FormError as error:
            return await self.show(admin, form=form, error=error)
        await admin.kit.hub.teams.set_notice_channel(
            admin.team, platform=platform or None, channel=(channel or None) if platform else None
        )
        raise admin.done(PAGE, "notices")
