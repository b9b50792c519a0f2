"""Signing in and out: the key form, the two-factor code step, the team choice of a person
who is a member of several teams, and the theme switch.

The sign-in forms' CSRF token is a double-submit cookie scoped to /login, and a cross-site
Origin is refused; the key form also accepts a POST without a token (scripts and the
contract's `POST /login` with `key`), which the Origin check and SameSite cookies cover.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from connectors.dashboard.federation import Provider
from connectors.dashboard.kit import THEME, THEMES, Kit
from connectors.dashboard.refusal import N_, Refusal
from connectors.dashboard.sessions import COOKIE, Viewer, viewer_of
from connectors.dashboard.signin import Principal, SignIn, SignInRefused
from connectors.dashboard.signin_steps import LOGIN_CSRF, PENDING, SignInSteps
from hub.errors import NotFound
from hub.web import client_ip


class SignInPages:
    def __init__(
        self, kit: Kit, signin: SignIn, steps: SignInSteps, providers: list[Provider]
    ) -> None:
        self._kit = kit
        self._signin = signin
        self._steps = steps
        self._providers = providers

    def routes(self) -> list[web.RouteDef]:
        kit = self._kit
        return [
            web.get("/login", self.login_form),
            web.post("/login", self.login),
            web.get("/login/code", self.code_form),
            web.post("/login/code", self.code),
            web.get("/login/team", self.team_form),
            web.post("/login/team", self.team),
            web.post("/logout", kit.signed_in(self.logout, form=True, second_factor_page=True)),
            web.post("/theme", kit.signed_in(self.theme, form=True, second_factor_page=True)),
        ]

    async def login_form(self, request: web.Request) -> web.Response:
        if await viewer_of(self._kit.hub, request) is not None:
            raise web.HTTPSeeOther("/")
        return self.login_page(request)

    def login_page(
        self, request: web.Request, *, error: str | Refusal = "", status: int = 200
    ) -> web.Response:
        return self._form_page(request, "login.html", error=error, status=status,
                               title=N_("Sign in"), providers=self._providers)  # fmt: skip

    async def login(self, request: web.Request) -> web.Response:
        posted = await request.post()
        refusal = self._forged(request, posted.get("csrf"), required=False)
        if refusal:
            return self.login_page(request, error=refusal, status=403)
        address = client_ip(request) or "unknown"
        try:
            principal = await self._signin.check(str(posted.get("key", "")), address=address)
        except SignInRefused as exc:
            return self.login_page(request, error=exc, status=401)
        raise await self._steps.after_first_factor(request, principal)

    async def code_form(self, request: web.Request) -> web.Response:
        if await self._steps.pending_principal(request) is None:
            raise web.HTTPSeeOther("/login")
        return self._code_page(request)

    async def code(self, request: web.Request) -> web.Response:
        principal = await self._steps.pending_principal(request)
        if principal is None or principal.member is None:
            return self.login_page(request, error=N_("The sign-in took too long; start again."),
                                   status=401)  # fmt: skip
        posted = await request.post()
        refusal = self._forged(request, posted.get("csrf"), required=True)
        if refusal:
            return self._code_page(request, error=refusal, status=403)
        address = client_ip(request) or "unknown"
        member = principal.member
        if await self._signin.code_locked(address, member):
            return self._code_page(request, error=self._signin.lockout(), status=429)
        code = str(posted.get("code", "")).strip()
        if not code or not await self._kit.hub.two_factor.verify(member, code):
            await self._signin.code_failed(address, member)
            return self._code_page(request, error=N_("That code was not accepted; codes "
                                   "work once, so wait for the next one."), status=401)  # fmt: skip
        raise self._steps.session(request, principal, second_factor=True)

    async def team_form(self, request: web.Request) -> web.Response:
        choices = await self._choices(request)
        if not choices:
            raise web.HTTPSeeOther("/login")
        return self._form_page(request, "login_team.html", title=N_("Choose a team"),
                               choices=choices)  # fmt: skip

    async def team(self, request: web.Request) -> web.Response:
        posted = await request.post()
        refusal = self._forged(request, posted.get("csrf"), required=True)
        choices = await self._choices(request)
        if refusal or not choices:
            return self.login_page(request, error=refusal or N_("The sign-in took too long; "
                                   "start again."), status=403)  # fmt: skip
        wanted = str(posted.get("member", ""))
        chosen = next((m for m, _ in choices if str(m.id) == wanted), None)
        if chosen is None:
            return self._form_page(request, "login_team.html", title=N_("Choose a team"),
                                   choices=choices, status=400,
                                   error=N_("Choose one of the teams shown."))  # fmt: skip
        via = str((self._steps.read_pending(request) or {}).get("via", "oidc"))
        raise await self._steps.after_first_factor(
            request, Principal(key_id=None, member=chosen, via=via)
        )

    async def logout(self, request: web.Request, viewer: Viewer) -> web.Response:
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE, path="/")
        response.del_cookie(PENDING, path="/login")
        raise response

    async def theme(self, request: web.Request, viewer: Viewer) -> web.Response:
        posted = await request.post()
        choice = str(posted.get("theme", "system"))
        back = str(posted.get("back", "/"))
        if not back.startswith("/") or back.startswith("//"):
            back = "/"
        response = web.HTTPSeeOther(back)
        chosen = choice if choice in THEMES else "system"
        response.set_cookie(THEME, chosen, samesite="Lax", secure=self._kit.secure(request),
                            path="/", max_age=365 * 86400)  # fmt: skip
        raise response

    async def _choices(self, request: web.Request) -> list[tuple[Any, str]]:
        payload = self._steps.read_pending(request) or {}
        found = []
        for member_id in payload.get("choices", []) if isinstance(payload, dict) else []:
            try:
                member = await self._kit.hub.members.get_by_id(int(member_id))
                team = await self._kit.hub.teams.get_by_id(member.team_id)
            except (NotFound, ValueError, TypeError):
                continue
            found.append((member, team.name))
        return found

    def _code_page(
        self, request: web.Request, *, error: str | Refusal = "", status: int = 200
    ) -> web.Response:
        return self._form_page(request, "login_code.html", error=error, status=status,
                               title=N_("Two-factor code"))  # fmt: skip

    def _form_page(
        self, request: web.Request, name: str, *, status: int = 200, **context: Any
    ) -> web.Response:
        token = secrets.token_urlsafe(24)
        context["error"] = self._shown(request, context.get("error", ""))
        context["title"] = self._kit.gettext(request, context["title"])
        response = self._kit.page(request, name, status=status, csrf=token, viewer=None,
                                  **context)  # fmt: skip
        response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="Lax", path="/login",
                            secure=self._kit.secure(request), max_age=3600)  # fmt: skip
        return response

    def _shown(self, request: web.Request, error: str | Refusal) -> str:
        """The error in the request's language."""
        if isinstance(error, Refusal):
            return error.shown(self._kit.catalogue(request))
        return self._kit.gettext(request, error) if error else ""

    def _forged(self, request: web.Request, token: object, *, required: bool) -> str:
        """Why a sign-in form's POST is refused as not from this site's form ('' if it is
        fine)."""
        origin = request.headers.get("Origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.host:
            return N_("Sign in from this site's own form.")
        if token is None and not required:
            return ""
        if not hmac.compare_digest(str(token or ""), request.cookies.get(LOGIN_CSRF, "")) or (
            not token
        ):
            return N_("The form expired; try again.")
        return ""
