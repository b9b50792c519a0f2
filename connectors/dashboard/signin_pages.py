"""Signing in and out, and the theme switch."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from aiohttp import web

from connectors.dashboard.kit import THEME, THEMES, Kit
from connectors.dashboard.sessions import COOKIE, Viewer, seal, viewer_of
from connectors.dashboard.signin import SignIn, SignInRefused
from hub.web import client_ip

LOGIN_CSRF = "hub_login_csrf"


class SignInPages:
    def __init__(self, kit: Kit) -> None:
        self._kit = kit
        settings = kit.settings
        self._signin = SignIn(
            kit.hub, failures=settings.lockout_failures, minutes=settings.lockout_minutes
        )

    def routes(self) -> list[web.RouteDef]:
        kit = self._kit
        return [
            web.get("/login", self.login_form),
            web.post("/login", self.login),
            web.post("/logout", kit.signed_in(self.logout, form=True)),
            web.post("/theme", kit.signed_in(self.theme, form=True)),
        ]

    async def login_form(self, request: web.Request) -> web.Response:
        if await viewer_of(self._kit.hub, request) is not None:
            raise web.HTTPSeeOther("/")
        return self._login_page(request)

    def _login_page(
        self, request: web.Request, *, error: str = "", status: int = 200
    ) -> web.Response:
        token = secrets.token_urlsafe(24)
        response = self._kit.page(request, "login.html", status=status, csrf=token, error=error,
                              viewer=None, title="Sign in")  # fmt: skip
        response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="Lax", path="/login",
                            secure=self._kit.secure(request), max_age=3600)  # fmt: skip
        return response

    async def login(self, request: web.Request) -> web.Response:
        origin = request.headers.get("Origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.host:
            return self._login_page(request, error="Sign in from this site's own form.", status=403)
        posted = await request.post()
        token = posted.get("csrf")
        if token is not None and not hmac.compare_digest(
            str(token), request.cookies.get(LOGIN_CSRF, "")
        ):
            return self._login_page(request, error="The form expired; try again.", status=403)
        address = client_ip(request) or "unknown"
        try:
            key_id = await self._signin.check(str(posted.get("key", "")), address=address)
        except SignInRefused as exc:
            return self._login_page(request, error=str(exc), status=401)
        value, _ = seal(self._kit.hub, key_id=key_id, hours=self._kit.settings.session_hours)
        response = web.HTTPSeeOther("/")
        response.set_cookie(COOKIE, value, httponly=True, samesite="Lax", path="/",
                            secure=self._kit.secure(request),
                            max_age=self._kit.settings.session_hours * 3600)  # fmt: skip
        response.del_cookie(LOGIN_CSRF, path="/login")
        raise response

    async def logout(self, request: web.Request, viewer: Viewer) -> web.Response:
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE, path="/")
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
