"""Two-factor sign-in for members: enrol with a QR code (drawn on the server as an SVG data
URI, so no script and no request leaves the page), confirm with a first code, recovery codes
shown once; give a code to a session that owes one; remove the factor; and the team owner's
rule that makes it mandatory.

A failed code counts towards the same lockout as failed sign-ins.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import segno
from aiohttp import web

from connectors.dashboard.admin_scope import actor_of
from connectors.dashboard.kit import Kit
from connectors.dashboard.refusal import N_, Refusal
from connectors.dashboard.sessions import Viewer
from connectors.dashboard.signin import Principal, SignIn
from connectors.dashboard.signin_steps import SignInSteps
from hub.audit import acting_as
from hub.errors import HubError
from hub.web import client_ip

PAGE = "/account/two-factor"


class TwoFactorPages:
    def __init__(self, kit: Kit, signin: SignIn, steps: SignInSteps) -> None:
        self._kit = kit
        self._signin = signin
        self._steps = steps

    def routes(self) -> list[web.RouteDef]:
        guard = self._kit.signed_in
        return [
            web.get(PAGE, guard(self.show, second_factor_page=True)),
            web.post(f"{PAGE}/begin", guard(self.begin, form=True, second_factor_page=True)),
            web.post(f"{PAGE}/confirm", guard(self.confirm, form=True, second_factor_page=True)),
            web.post(f"{PAGE}/verify", guard(self.verify, form=True, second_factor_page=True)),
            web.post(f"{PAGE}/remove", guard(self.remove, form=True)),
            web.post(f"{PAGE}/rule", guard(self.rule, form=True, changes=True)),
        ]

    async def show(self, request: web.Request, viewer: Viewer) -> web.Response:
        return await self._page(request, viewer)

    async def begin(self, request: web.Request, viewer: Viewer) -> web.Response:
        member = self._member(viewer)
        await self._kit.hub.two_factor.begin(member)
        raise web.HTTPSeeOther(PAGE)

    async def confirm(self, request: web.Request, viewer: Viewer) -> web.Response:
        member = self._member(viewer)
        code = str((await request.post()).get("code", ""))
        if await self._locked(request, viewer):
            return await self._page(request, viewer, error=self._signin.lockout(),
                                    status=429)  # fmt: skip
        try:
            with acting_as(actor_of(viewer)):
                codes = await self._kit.hub.two_factor.confirm(member, code)
        except HubError as exc:
            await self._signin.code_failed(self._address(request), member)
            return await self._page(request, viewer, error=exc.user_message, status=exc.status)
        # The session now has its second factor: sealed anew, and the codes shown this once.
        response = web.Response()
        csrf = self._steps.seal_into(response, request, self._principal(viewer),
                                     second_factor=True)  # fmt: skip
        upgraded = dataclasses.replace(viewer, csrf=csrf, second_factor=True,
                                       needs_second_factor=False)  # fmt: skip
        page = self._kit.page(request, "recovery_codes.html", viewer=upgraded,
                              title=self._kit.gettext(request, N_("Recovery codes")),
                              codes=codes)  # fmt: skip
        page.cookies.update(response.cookies)
        return page

    async def verify(self, request: web.Request, viewer: Viewer) -> web.Response:
        member = self._member(viewer)
        code = str((await request.post()).get("code", "")).strip()
        if await self._locked(request, viewer):
            return await self._page(request, viewer, error=self._signin.lockout(),
                                    status=429)  # fmt: skip
        if not code or not await self._kit.hub.two_factor.verify(member, code):
            await self._signin.code_failed(self._address(request), member)
            return await self._page(request, viewer, status=401,
                                    error=N_("That code was not accepted."))  # fmt: skip
        raise self._upgraded(request, viewer)

    async def remove(self, request: web.Request, viewer: Viewer) -> web.Response:
        member = self._member(viewer)
        code = str((await request.post()).get("code", "")).strip()
        if await self._kit.hub.two_factor.required(_team(viewer)):
            return await self._page(request, viewer, status=409, error=N_("Your team requires "
                                    "two-factor sign-in; it cannot be removed."))  # fmt: skip
        if await self._locked(request, viewer):
            return await self._page(request, viewer, error=self._signin.lockout(),
                                    status=429)  # fmt: skip
        if not code or not await self._kit.hub.two_factor.verify(member, code):
            await self._signin.code_failed(self._address(request), member)
            return await self._page(request, viewer, status=401,
                                    error=N_("That code was not accepted."))  # fmt: skip
        with acting_as(actor_of(viewer)):
            await self._kit.hub.two_factor.remove(member)
        raise web.HTTPSeeOther(PAGE)

    async def rule(self, request: web.Request, viewer: Viewer) -> web.Response:
        if viewer.role != "owner" or viewer.team is None:
            return await self._page(request, viewer, status=403, error=N_("Only a team owner "
                                    "can change the team's sign-in rule."))  # fmt: skip
        required = (await request.post()).get("required") == "on"
        with acting_as(actor_of(viewer)):
            await self._kit.hub.two_factor.require(viewer.team, required)
        raise web.HTTPSeeOther(PAGE)

    async def _page(
        self, request: web.Request, viewer: Viewer, *, error: str | Refusal = "", status: int = 200
    ) -> web.Response:
        hub = self._kit.hub

        def gettext(message: str) -> str:
            return self._kit.gettext(request, message)

        if isinstance(error, Refusal):
            error = error.shown(self._kit.catalogue(request))
        elif error:
            error = gettext(error)
        context: dict[str, Any] = {"error": error, "member": viewer.member, "qr": None,
                                   "secret": None, "state": None,
                                   "team_required": False}  # fmt: skip
        if viewer.team is not None:
            context["team_required"] = await hub.two_factor.required(viewer.team)
        if viewer.member is not None:
            context["state"] = await hub.two_factor.state(viewer.member)
            pending = await hub.two_factor.pending(viewer.member)
            if pending is not None:
                qr = segno.make(pending.uri, error="m")
                context["qr"] = qr.svg_data_uri(scale=5, border=4, dark="#000", light="#fff")
                context["secret"] = " ".join(
                    pending.secret[i : i + 4] for i in range(0, len(pending.secret), 4)
                )
        return self._kit.page(request, "two_factor.html", status=status, viewer=viewer,
                              title=gettext("Two-factor sign-in"), **context)  # fmt: skip

    def _upgraded(self, request: web.Request, viewer: Viewer) -> web.HTTPException:
        return self._steps.session(request, self._principal(viewer), second_factor=True)

    def _principal(self, viewer: Viewer) -> Principal:
        return Principal(key_id=viewer.key_id, member=viewer.member, via=viewer.via)

    async def _locked(self, request: web.Request, viewer: Viewer) -> bool:
        return await self._signin.code_locked(self._address(request), self._member(viewer))

    def _address(self, request: web.Request) -> str:
        return client_ip(request) or "unknown"

    def _member(self, viewer: Viewer) -> Any:
        if viewer.member is None:
            raise web.HTTPSeeOther(PAGE)  # the page says two-factor belongs to members
        return viewer.member


def _team(viewer: Viewer) -> Any:
    assert viewer.team is not None  # a member's viewer has its team
    return viewer.team
