"""What every dashboard page shares: the templates, the signed-in guard, the page headers.

Each group of pages (sign-in, analytics, administration, ...) is its own module with a class
that takes a `Kit` and returns its routes and its entries in the main navigation; `pages.py`
puts them together. UI strings go through gettext (`{{ _("...") }}` in templates,
`kit.gettext(request, "...")` in code) so that they can be translated.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jinja2
from aiohttp import web

from connectors.dashboard.config import DashboardSettings
from connectors.dashboard.sessions import Viewer, viewer_of
from hub.errors import HubError, NotFound
from hub.ledger.money import format_usd
from hub.service import Hub

HERE = Path(__file__).parent
THEME = "hub_theme"
THEMES = ("system", "light", "dark", "contrast")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
Handler = Callable[[web.Request, Viewer], Awaitable[web.StreamResponse]]


class Section(Protocol):
    """A group of pages: its routes, built once when the dashboard starts."""

    def routes(self) -> list[web.RouteDef]: ...


@dataclass(frozen=True, slots=True)
class NavItem:
    """An entry of the main navigation; `changes` entries are shown only to admins."""

    href: str
    label: str
    changes: bool = False


class Kit:
    def __init__(self, hub: Hub, settings: DashboardSettings) -> None:
        self.hub = hub
        self.settings = settings
        self.nav: list[NavItem] = []
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
        )
        # Untranslated until a catalogue is installed: `_()` returns the English text.
        self.templates.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
        self.templates.filters["usd"] = format_usd
        self.templates.filters["thousands"] = lambda n: f"{n:,}"

    def gettext(self, request: web.Request, message: str) -> str:
        """`message` in the request's language (English until a catalogue is installed)."""
        return message

    def signed_in(
        self,
        handler: Handler,
        *,
        form: bool = False,
        changes: bool = False,
        second_factor_page: bool = False,
    ) -> Any:
        """`handler` for a signed-in viewer; `form` checks the CSRF token of a POST, `changes`
        refuses viewers whose role may not change anything (403). A viewer whose team
        requires a second factor they have not given reaches only `second_factor_page`s."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            viewer = await viewer_of(self.hub, request)
            if viewer is None:
                if request.path.endswith((".json", ".csv")):
                    return json_error(401, "Sign in first: POST /login with a key.")
                raise web.HTTPSeeOther("/login")
            if viewer.needs_second_factor and not second_factor_page:
                if request.path.endswith((".json", ".csv")):
                    return json_error(401, "Your team requires two-factor sign-in: set it up "
                                      "at /account/two-factor.")  # fmt: skip
                raise web.HTTPSeeOther("/account/two-factor")
            if form:
                posted = await request.post()
                token = str(posted.get("csrf", ""))
                if not token or not hmac.compare_digest(token, viewer.csrf):
                    return self.page(request, "error.html", status=403, viewer=viewer,
                                     title="Form expired", message="This form has expired; "
                                     "go back, reload the page and try again.")  # fmt: skip
            if changes and not viewer.may_change:
                return self.page(request, "error.html", status=403, viewer=viewer,
                                 title="Not allowed", message="Your role may see this team's "
                                 "figures but not change its settings.")  # fmt: skip
            try:
                return await handler(request, viewer)
            except HubError as exc:
                if request.path.endswith(".json"):
                    return json_error(exc.status, exc.user_message)
                title = "Not found" if isinstance(exc, NotFound) else "Cannot show this"
                return self.page(request, "error.html", status=exc.status, viewer=viewer,
                                 title=title, message=exc.user_message)  # fmt: skip

        return guarded

    def page(
        self, request: web.Request, name: str, *, status: int = 200, **context: Any
    ) -> web.Response:
        theme = request.cookies.get(THEME, "system")
        viewer = context.get("viewer")
        nav = [
            item for item in self.nav
            if not item.changes or (isinstance(viewer, Viewer) and viewer.may_change)
        ]  # fmt: skip
        body = self.templates.get_template(name).render(
            theme=theme if theme in THEMES else "system",
            themes=THEMES,
            path=request.path,
            nav=nav,
            **context,
        )
        return web.Response(
            text=body, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
        )

    def secure(self, request: web.Request) -> bool:
        """Whether cookies must be Secure: served over https, or behind an https public URL."""
        return request.secure or self.hub.settings.server.public_url.startswith("https://")


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message}}, status=status)
