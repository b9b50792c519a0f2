"""Signing in through another site: `/login/<provider>` sends the browser there with a fresh
flow (state, nonce, PKCE verifier in a sealed cookie); `/login/<provider>/callback` checks
the answer, finds the member the identity is linked to, and goes on to the second factor or
the session."""

from __future__ import annotations

from aiohttp import web

from connectors.dashboard.federation import (
    FLOW_COOKIE,
    FLOW_MINUTES,
    FederationError,
    Flow,
    Provider,
    redirect_uri,
)
from connectors.dashboard.kit import Kit
from connectors.dashboard.refusal import N_, Refusal
from connectors.dashboard.signin import Principal
from connectors.dashboard.signin_pages import SignInPages
from connectors.dashboard.signin_steps import SignInSteps
from hub.roles import allows


class FederatedPages:
    def __init__(
        self, kit: Kit, steps: SignInSteps, pages: SignInPages, providers: list[Provider]
    ) -> None:
        self._kit = kit
        self._steps = steps
        self._pages = pages
        self._providers = {p.name: p for p in providers}

    def routes(self) -> list[web.RouteDef]:
        routes = []
        for name in self._providers:
            routes += [
                web.get(f"/login/{name}", self.start),
                web.get(f"/login/{name}/callback", self.callback),
            ]
        return routes

    def _provider(self, request: web.Request) -> Provider:
        return self._providers[request.path.split("/")[2]]

    async def start(self, request: web.Request) -> web.Response:
        provider = self._provider(request)
        hub = self._kit.hub
        back = redirect_uri(hub.settings.server.public_url, request.url.origin(), provider.name)
        flow = Flow.new(hub, provider=provider.name, redirect_uri=back)
        try:
            url = await provider.start(flow)
        except FederationError as exc:
            return self._pages.login_page(request, error=exc, status=502)
        response = web.HTTPSeeOther(url)
        response.set_cookie(FLOW_COOKIE, flow.seal(hub), httponly=True, samesite="Lax",
                            path="/login", secure=self._kit.secure(request),
                            max_age=FLOW_MINUTES * 60)  # fmt: skip
        raise response

    async def callback(self, request: web.Request) -> web.Response:
        provider = self._provider(request)
        hub = self._kit.hub
        flow = Flow.unseal(hub, request.cookies.get(FLOW_COOKIE), provider=provider.name)
        if flow is None:
            return self._refused(request, N_("The sign-in took too long, or was started in "
                                 "another browser; start again."), 400)  # fmt: skip
        try:
            identity = await provider.finish(dict(request.query), flow)
        except FederationError as exc:
            return self._refused(request, exc, 401)
        members = []
        for platform, workspace, user in identity.links:
            members = await hub.members.signing_in(
                platform=platform, user=user, workspace=workspace
            )
            if members:
                break
        members = [m for m in members if allows(m.role, "read_usage")]
        if not members:
            unlinked = Refusal(
                N_(
                    "%(who)s signed in with %(provider)s, but is not linked to a team member "
                    "who may use the dashboard; ask a team admin to link your account (hub "
                    "member link)."
                ),
                who=identity.shown_as,
                provider=provider.label,
            )
            return self._refused(request, unlinked, 403)
        if len(members) > 1:
            step = self._steps.choose_team(request, members, provider.name)
        else:
            principal = Principal(key_id=None, member=members[0], via=provider.name)
            step = await self._steps.after_first_factor(request, principal)
        step.del_cookie(FLOW_COOKIE, path="/login")
        raise step

    def _refused(self, request: web.Request, message: str | Refusal, status: int) -> web.Response:
        response = self._pages.login_page(request, error=message, status=status)
        response.del_cookie(FLOW_COOKIE, path="/login")
        return response
