"""The dashboard's routes: every group of pages, its navigation entries and the static files.

Everything is rendered on the server (jinja2, autoescaped); the only script is the live
tail's, served from here, and a strict Content-Security-Policy says so. Forms carry a CSRF
token that must match the session's; the sign-in forms' token is a double-submit cookie, and
a cross-site Origin is refused.
"""

from __future__ import annotations

from aiohttp import web

from connectors.dashboard.admin_pages import AdminPages
from connectors.dashboard.analytics_pages import NAV as ANALYTICS_NAV
from connectors.dashboard.analytics_pages import AnalyticsPages
from connectors.dashboard.config import DashboardSettings
from connectors.dashboard.discord_oauth import DiscordProvider
from connectors.dashboard.federated_pages import FederatedPages
from connectors.dashboard.federation import Provider
from connectors.dashboard.i18n import N_
from connectors.dashboard.kit import HERE, Kit, NavItem, Section
from connectors.dashboard.language_pages import LanguagePages
from connectors.dashboard.oidc import OpenIdProvider
from connectors.dashboard.signin import SignIn
from connectors.dashboard.signin_pages import SignInPages
from connectors.dashboard.signin_steps import SignInSteps
from connectors.dashboard.suggestion_pages import NAV as SUGGESTIONS_NAV
from connectors.dashboard.suggestion_pages import SuggestionPages
from connectors.dashboard.two_factor_pages import TwoFactorPages
from connectors.dashboard.view_pages import ViewPages
from hub.service import Hub

STATIC_HEADERS = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}


class Pages:
    def __init__(self, hub: Hub, settings: DashboardSettings) -> None:
        self._kit = Kit(hub, settings)
        self._kit.nav.extend(ANALYTICS_NAV)
        self._kit.nav.extend(SUGGESTIONS_NAV)
        self._kit.nav.append(NavItem("/account/two-factor", N_("Two-factor")))
        self._signin = SignIn(
            hub, failures=settings.lockout_failures, minutes=settings.lockout_minutes
        )
        signin_sections = _signin_sections(self._kit, self._signin)
        self._sections: list[Section] = [*signin_sections, AnalyticsPages(self._kit)]
        self._sections.append(SuggestionPages(self._kit))
        self._sections.append(ViewPages(self._kit))
        self._sections.append(AdminPages(self._kit))
        self._sections.append(LanguagePages(self._kit))
        self._css = (HERE / "static" / "dashboard.css").read_bytes()
        self._script = (HERE / "static" / "tail.js").read_bytes()

    def routes(self) -> list[web.RouteDef]:
        routes = [
            web.get("/dashboard/static/dashboard.css", self.stylesheet),
            web.get("/dashboard/static/tail.js", self.script),
        ]
        for section in self._sections:
            routes.extend(section.routes())
        return routes

    async def close(self) -> None:
        await self._signin.close()

    async def stylesheet(self, request: web.Request) -> web.Response:
        return web.Response(body=self._css, content_type="text/css", headers=STATIC_HEADERS)

    async def script(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self._script, content_type="text/javascript", headers=STATIC_HEADERS
        )


def _signin_sections(kit: Kit, signin: SignIn) -> list[Section]:
    """Keys, single sign-on (the providers configured), two-factor codes."""
    hub, settings = kit.hub, kit.settings
    steps = SignInSteps(kit)
    providers: list[Provider] = []
    if settings.oidc is not None:
        now = lambda: int(hub.clock.now().timestamp())  # noqa: E731 - the hub's clock, for exp
        providers.append(OpenIdProvider(settings.oidc, http=hub.http, now=now))
    if settings.discord_oauth is not None:
        providers.append(DiscordProvider(settings.discord_oauth))
    pages = SignInPages(kit, signin, steps, providers)
    return [
        pages,
        FederatedPages(kit, steps, pages, providers),
        TwoFactorPages(kit, signin, steps),
    ]
