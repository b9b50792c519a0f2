"""The dashboard's routes: every group of pages, its navigation entries and the static files.

Everything is rendered on the server (jinja2, autoescaped); the only script is the live
tail's, served from here, and a strict Content-Security-Policy says so. Forms carry a CSRF
token that must match the session's; the sign-in form's token is a double-submit cookie, and
a cross-site Origin is refused.
"""

from __future__ import annotations

from aiohttp import web

from connectors.dashboard.admin_pages import AdminPages
from connectors.dashboard.analytics_pages import NAV as ANALYTICS_NAV
from connectors.dashboard.analytics_pages import AnalyticsPages
from connectors.dashboard.config import DashboardSettings
from connectors.dashboard.kit import HERE, Kit, Section
from connectors.dashboard.signin_pages import SignInPages
from connectors.dashboard.suggestion_pages import NAV as SUGGESTIONS_NAV
from connectors.dashboard.suggestion_pages import SuggestionPages
from hub.service import Hub

STATIC_HEADERS = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}


class Pages:
    def __init__(self, hub: Hub, settings: DashboardSettings) -> None:
        self._kit = Kit(hub, settings)
        self._kit.nav.extend(ANALYTICS_NAV)
        self._kit.nav.extend(SUGGESTIONS_NAV)
        self._sections: list[Section] = [SignInPages(self._kit), AnalyticsPages(self._kit)]
        self._sections.append(SuggestionPages(self._kit))
        self._sections.append(AdminPages(self._kit))
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

    async def stylesheet(self, request: web.Request) -> web.Response:
        return web.Response(body=self._css, content_type="text/css", headers=STATIC_HEADERS)

    async def script(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self._script, content_type="text/javascript", headers=STATIC_HEADERS
        )
