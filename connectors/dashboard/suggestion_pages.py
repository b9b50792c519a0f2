"""The cost optimization suggestions page: the hub's suggestions (hub/suggestions.py) for the
signed-in team, or for the team the operator picks."""

from __future__ import annotations

from aiohttp import web

from connectors.dashboard.i18n import N_
from connectors.dashboard.kit import Kit, NavItem
from connectors.dashboard.refusal import Missing
from connectors.dashboard.sessions import Viewer
from connectors.dashboard.suggestion_words import worded
from hub.errors import HubError
from hub.ledger.summary_plan import DAY

NAV = (NavItem("/suggestions", N_("Suggestions")),)


class SuggestionPages:
    def __init__(self, kit: Kit) -> None:
        self._kit = kit

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/suggestions", self._kit.signed_in(self.suggestions))]

    async def suggestions(self, request: web.Request, viewer: Viewer) -> web.Response:
        hub = self._kit.hub
        teams = [] if viewer.team is not None else await hub.teams.list()
        asked = request.query.get("team", "")
        if viewer.team is not None:
            if asked and asked != viewer.team.name:
                raise Missing(N_("No team named %(name)s."), name=repr(asked[:100]))
            team = viewer.team
        elif asked:
            try:
                team = await hub.teams.get(asked)
            except HubError:
                raise Missing(N_("No team named %(name)s."), name=repr(asked[:100])) from None
        elif teams:
            team = teams[0]
        else:
            raise Missing(N_("There is no team yet."))
        report = await hub.suggestions.for_team(team.id)
        words, numbers = self._kit.catalogue(request), self._kit.numbers(request)
        return self._kit.page(
            request, "suggestions.html", viewer=viewer, team=team,
            title=self._kit.gettext(request, N_("Suggestions")),
            teams=teams, report=report, saving=numbers.usd(report.saving_micros),
            sentences=[(s, worded(s, words, numbers)) for s in report.suggestions],
            first=report.since.date(), last=(report.until - DAY).date(),
        )  # fmt: skip
