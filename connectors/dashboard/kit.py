"""What every dashboard page shares: the templates, the signed-in guard, the page headers.

Each group of pages (sign-in, analytics, administration, ...) is its own module with a class
that takes a `Kit` and returns its routes and its entries in the main navigation; `pages.py`
puts them together. UI strings go through gettext (`{{ _("...") }}` in templates,
`kit.gettext(request, "...")` in code; `N_("...")` marks a module's constant for extraction)
and are shown in the request's language (i18n.py): one template environment per language,
each with its catalogue and its number formats installed.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from gettext import NullTranslations
from pathlib import Path
from typing import Any, Protocol

import jinja2
from aiohttp import web

from connectors.dashboard import i18n
from connectors.dashboard.config import DashboardSettings
from connectors.dashboard.refusal import Worded
from connectors.dashboard.sessions import Viewer, viewer_of
from hub.errors import HubError, NotFound
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
        self.catalogues = {lang: i18n.catalogue(lang) for lang in i18n.LANGUAGES}
        self._templates = {lang: _environment(lang, t) for lang, t in self.catalogues.items()}

    def language(self, request: web.Request) -> str:
        return i18n.choose(
            request.cookies.get(i18n.COOKIE),
            request.headers.get("Accept-Language", ""),
            self.settings.default_language,
        )

    def gettext(self, request: web.Request, message: str) -> str:
        """`message` in the request's language."""
        return self.catalogues[self.language(request)].gettext(message)

    def catalogue(self, request: web.Request) -> NullTranslations:
        return self.catalogues[self.language(request)]

    def translator(self, request: web.Request) -> Callable[[str], str]:
        """The request's gettext, to call as `_` (so that `make i18n` finds the strings)."""
        return self.catalogues[self.language(request)].gettext

    def ngettext(self, request: web.Request, singular: str, plural: str, n: int) -> str:
        return self.catalogues[self.language(request)].ngettext(singular, plural, n)

    def said(self, request: web.Request, exc: HubError) -> str:
        """An error's sentence in the request's language: the dashboard's own are worded for
        translation; a hub service's is translated when the catalogue has it (hub_words.py),
        else shown as the service wrote it."""
        if isinstance(exc, Worded):
            return exc.shown(self.translator(request))
        return self.gettext(request, exc.user_message)

    def numbers(self, request: web.Request) -> i18n.Numbers:
        return i18n.Numbers(self.language(request))

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
            _ = self.translator(request)
            if form:
                posted = await request.post()
                token = str(posted.get("csrf", ""))
                if not token or not hmac.compare_digest(token, viewer.csrf):
                    return self.page(request, "error.html", status=403, viewer=viewer,
                                     title=_("Form expired"), message=_("This form has "
                                     "expired; go back, reload the page and try again."),
                                     )  # fmt: skip
            if changes and not viewer.may_change:
                return self.page(request, "error.html", status=403, viewer=viewer,
                                 title=_("Not allowed"), message=_("Your role may see this "
                                 "team's figures but not change its settings."))  # fmt: skip
            try:
                return await handler(request, viewer)
            except HubError as exc:
                if request.path.endswith(".json"):
                    return json_error(exc.status, exc.user_message)
                title = _("Not found") if isinstance(exc, NotFound) else _("Cannot show this")
                return self.page(request, "error.html", status=exc.status, viewer=viewer,
                                 title=title, message=self.said(request, exc))  # fmt: skip

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
        lang = self.language(request)
        template = self._templates[lang].get_template(name)
        body = template.render(
            theme=theme if theme in THEMES else "system",
            themes=THEMES,
            path=request.path,
            # The language links come back here; a refusal's page does not echo its query.
            here=request.path_qs if status < 400 else request.path,
            lang=lang,
            languages=i18n.NAMES,
            nav=nav,
            **context,
        )
        return web.Response(
            text=body, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
        )

    def secure(self, request: web.Request) -> bool:
        """Whether cookies must be Secure: served over https, or behind an https public URL."""
        return request.secure or self.hub.settings.server.public_url.startswith("https://")


def _environment(language: str, translations: NullTranslations) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    # newstyle: `_("%(n)s rows", n=n)` formats after translating, and escapes the values.
    environment.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    numbers = i18n.Numbers(language)
    environment.filters["usd"] = numbers.usd
    environment.filters["thousands"] = numbers.integer
    environment.filters["percent"] = numbers.percent
    # Dates and times as the language writes them; `iso` for <time datetime>, the same in all.
    environment.filters["moment"] = numbers.moment
    environment.filters["minute"] = numbers.minute
    environment.filters["day"] = numbers.day
    environment.filters["iso"] = i18n.machine_time

    def role_name(role: str) -> str:
        return translations.gettext(i18n.ROLE_NAMES.get(role, role))

    environment.filters["role"] = role_name
    return environment


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message}}, status=status)
