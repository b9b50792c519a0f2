"""Saved views ("custom dashboards"): the explorer's URL state saved under a name for the
team, listed, opened (a redirect to the explorer) and deleted, through hub.saved_views
(audited as the signed-in viewer). Saving and deleting are for those whose role may change
the team's settings; every viewer of the team may list and open them."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from connectors.dashboard.admin_scope import actor_of
from connectors.dashboard.explorer import BadQuery, parse_query
from connectors.dashboard.i18n import N_
from connectors.dashboard.kit import Kit
from connectors.dashboard.refusal import Missing
from connectors.dashboard.sessions import Viewer
from hub.audit import acting_as
from hub.errors import HubError


class ViewPages:
    def __init__(self, kit: Kit) -> None:
        self._kit = kit

    def routes(self) -> list[web.RouteDef]:
        guard = self._kit.signed_in
        return [
            web.get("/usage/views", guard(self.list)),
            web.post("/usage/views", guard(self.save, form=True, changes=True)),
            web.get("/usage/views/{id}", guard(self.open)),
            web.post("/usage/views/{id}/delete", guard(self.delete, form=True, changes=True)),
        ]

    async def list(self, request: web.Request, viewer: Viewer) -> web.Response:
        hub = self._kit.hub
        team_id = None if viewer.team is None else viewer.team.id
        views = await hub.saved_views.list(team_id)
        names = {t.id: t.name for t in await hub.teams.list()} if viewer.is_operator else {}
        rows = [(view, names.get(view.team_id), _describe(view.query)) for view in views]
        _ = self._kit.translator(request)
        return self._kit.page(request, "views.html", viewer=viewer, title=_("Saved views"),
                              rows=rows)  # fmt: skip

    async def save(self, request: web.Request, viewer: Viewer) -> web.StreamResponse:
        hub = self._kit.hub
        _ = self._kit.translator(request)
        posted = await request.post()
        given = dict(parse_qsl(str(posted.get("query", ""))))
        try:
            query = parse_query(given, today=hub.clock.now())
        except BadQuery as exc:
            return self._kit.page(request, "error.html", status=400, viewer=viewer,
                                  title=_("Cannot save this"),
                                  message=exc.shown(_))  # fmt: skip
        if viewer.team is not None:
            if query.filters.get("team", viewer.team.name) != viewer.team.name:
                raise Missing(N_("No team named %(name)s."), name=repr(query.filters["team"]))
            team_id = viewer.team.id
        else:
            name = query.filters.get("team")
            if not name:
                return self._kit.page(request, "error.html", status=400, viewer=viewer,
                                      title=_("Cannot save this"), message=_("Filter by a "
                                      "team first: a view belongs to a team."))  # fmt: skip
            try:
                team_id = (await hub.teams.get(name)).id
            except HubError:
                raise Missing(N_("No team named %(name)s."), name=repr(name)) from None
        stored = urlencode(query.url_params(team=None))
        with acting_as(actor_of(viewer)):
            view = await hub.saved_views.save(team_id, str(posted.get("name", "")), stored)
        raise web.HTTPSeeOther(f"/usage/views#view-{view.id}")

    async def open(self, request: web.Request, viewer: Viewer) -> web.StreamResponse:
        view = await self._kit.hub.saved_views.get(
            None if viewer.team is None else viewer.team.id, _view_id(request)
        )
        query = view.query
        if viewer.team is None:  # the operator sees every team: the view is its team's
            team = await self._kit.hub.teams.get_by_id(view.team_id)
            query = urlencode([*parse_qsl(query), ("team", team.name)])
        raise web.HTTPSeeOther(f"/usage?{query}")

    async def delete(self, request: web.Request, viewer: Viewer) -> web.StreamResponse:
        with acting_as(actor_of(viewer)):
            await self._kit.hub.saved_views.delete(
                None if viewer.team is None else viewer.team.id, _view_id(request)
            )
        raise web.HTTPSeeOther("/usage/views")


def _view_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise Missing(N_("No such saved view."))
    return int(raw)


def _describe(query: str) -> str:
    """A view's query as people read it: `group_by: model · from: 2026-11-01 · …`."""
    return " · ".join(f"{name}: {value}" for name, value in parse_qsl(query))
