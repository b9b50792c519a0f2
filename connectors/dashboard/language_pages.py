"""The language switch: `GET /language?lang=de&next=/usage?...` keeps the choice in the
`hub_lang` cookie and goes back to the page it came from (a path on this site only: any other
`next` goes to `/`). A link, not a form, so that it works before signing in as well; choosing
a language changes nothing but the pages' words."""

from __future__ import annotations

from aiohttp import web

from connectors.dashboard import i18n
from connectors.dashboard.kit import Kit


class LanguagePages:
    def __init__(self, kit: Kit) -> None:
        self._kit = kit

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/language", self.switch)]

    async def switch(self, request: web.Request) -> web.Response:
        chosen = request.query.get("lang", "")
        response = web.HTTPSeeOther(i18n.local_path(request.query.get("next", "/")))
        if chosen in i18n.LANGUAGES:
            response.set_cookie(i18n.COOKIE, chosen, samesite="Lax", path="/",
                                secure=self._kit.secure(request),
                                max_age=365 * 86400)  # fmt: skip
        raise response
