"""The steps after a first factor (a key, or a member found through another site): a
member with a confirmed TOTP factor gives a code first; a person who is a member of several
teams chooses one; then the session cookie.

Between steps the browser holds a sealed "pending" cookie, scoped to /login and good for five
minutes, saying who passed the first factor: never a session, and useless anywhere else.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aiohttp import web

from connectors.dashboard.kit import Kit
from connectors.dashboard.sessions import COOKIE, seal, unseal
from connectors.dashboard.signin import Principal
from hub.errors import NotFound
from hub.store.ledger_tables import Member

PENDING = "hub_pending"
PENDING_MINUTES = 5
LOGIN_CSRF = "hub_login_csrf"


class SignInSteps:
    def __init__(self, kit: Kit) -> None:
        self._kit = kit

    async def after_first_factor(
        self, request: web.Request, principal: Principal
    ) -> web.HTTPException:
        """Where the browser goes next: the code form, or in with a session."""
        member = principal.member
        if member is not None and (await self._kit.hub.two_factor.state(member)).enrolled:
            pending = {"key": principal.key_id, "member": member.id, "via": principal.via}
            return self.pending(request, pending, to="/login/code")
        return self.session(request, principal, second_factor=False)

    def choose_team(
        self, request: web.Request, members: list[Member], via: str
    ) -> web.HTTPException:
        return self.pending(request, {"choices": [m.id for m in members], "via": via},
                            to="/login/team")  # fmt: skip

    def session(
        self, request: web.Request, principal: Principal, *, second_factor: bool, to: str = "/"
    ) -> web.HTTPException:
        response = web.HTTPSeeOther(to)
        self.seal_into(response, request, principal, second_factor=second_factor)
        return response

    def seal_into(
        self,
        response: web.StreamResponse,
        request: web.Request,
        principal: Principal,
        *,
        second_factor: bool,
    ) -> str:
        """Set a new session cookie on `response`; its CSRF token."""
        kit = self._kit
        value, csrf = seal(
            kit.hub,
            key_id=principal.key_id,
            member_id=principal.member.id if principal.member is not None else None,
            second_factor=second_factor,
            via=principal.via,
            hours=kit.settings.session_hours,
        )
        response.set_cookie(COOKIE, value, httponly=True, samesite="Lax", path="/",
                            secure=kit.secure(request),
                            max_age=kit.settings.session_hours * 3600)  # fmt: skip
        response.del_cookie(LOGIN_CSRF, path="/login")
        response.del_cookie(PENDING, path="/login")
        return csrf

    def pending(
        self, request: web.Request, payload: dict[str, Any], *, to: str
    ) -> web.HTTPException:
        hub = self._kit.hub
        expires = hub.clock.now() + timedelta(minutes=PENDING_MINUTES)
        sealed = hub.secrets.encrypt(json.dumps({**payload, "exp": expires.timestamp()}))
        response = web.HTTPSeeOther(to)
        response.set_cookie(PENDING, sealed, httponly=True, samesite="Lax", path="/login",
                            secure=self._kit.secure(request),
                            max_age=PENDING_MINUTES * 60)  # fmt: skip
        return response

    def read_pending(self, request: web.Request) -> dict[str, Any] | None:
        return unseal(self._kit.hub, request.cookies.get(PENDING))

    async def pending_principal(self, request: web.Request) -> Principal | None:
        """Who passed the first factor and now owes a code, if anyone."""
        payload = self.read_pending(request)
        if payload is None or not isinstance(payload.get("member"), int):
            return None
        try:
            member = await self._kit.hub.members.get_by_id(payload["member"])
        except NotFound:  # removed meanwhile
            return None
        key = payload.get("key")
        return Principal(
            key_id=key if isinstance(key, int) else None,
            member=member,
            via=str(payload.get("via", "key")),
        )
