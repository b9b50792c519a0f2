"""The dashboard's routes: sign-in, overview, usage explorer and its exports.

Everything is rendered on the server (jinja2, autoescaped) with no script at all; a strict
Content-Security-Policy says so. Forms carry a CSRF token that must match the session's; the
sign-in form's token is a double-submit cookie, and a cross-site Origin is refused.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
from aiohttp import web

from connectors.dashboard.charts import Point, bars, columns
from connectors.dashboard.config import DashboardSettings
from connectors.dashboard.explorer import (
    GROUP_NAMES,
    GROUPS,
    METRICS,
    TEXT_FILTERS,
    BadQuery,
    Explored,
    as_csv,
    as_json,
    explore,
    metric_value,
    parse_query,
    totals_json,
)
from connectors.dashboard.sessions import COOKIE, Viewer, seal, viewer_of
from connectors.dashboard.signin import SignIn, SignInRefused
from hub.errors import HubError, NotFound
from hub.ledger.money import format_usd
from hub.ledger.reports import RecordedRequest
from hub.ledger.summary import UsageFilter
from hub.ledger.summary_plan import local_days
from hub.ledger.usage_totals import UsageTotals
from hub.model import Caller
from hub.service import Hub
from hub.web import client_ip

HERE = Path(__file__).parent
LOGIN_CSRF = "hub_login_csrf"
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


class Pages:
    def __init__(self, hub: Hub, settings: DashboardSettings) -> None:
        self._hub = hub
        self._settings = settings
        self._signin = SignIn(
            hub, failures=settings.lockout_failures, minutes=settings.lockout_minutes
        )
        self._templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self._templates.filters["usd"] = format_usd
        self._templates.filters["thousands"] = lambda n: f"{n:,}"
        self._css = (HERE / "static" / "dashboard.css").read_bytes()
        self._script = (HERE / "static" / "tail.js").read_bytes()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self._signed_in(self.overview)),
            web.get("/login", self.login_form),
            web.post("/login", self.login),
            web.post("/logout", self._signed_in(self.logout, form=True)),
            web.post("/theme", self._signed_in(self.theme, form=True)),
            web.get("/usage", self._signed_in(self.usage)),
            web.get("/usage.csv", self._signed_in(self.usage_csv)),
            web.get("/usage.json", self._signed_in(self.usage_json)),
            web.get("/models", self._signed_in(self.models)),
            web.get("/requests", self._signed_in(self.requests)),
            web.get("/requests/stream", self._signed_in(self.requests_stream)),
            web.get("/dashboard/static/dashboard.css", self.stylesheet),
            web.get("/dashboard/static/tail.js", self.script),
        ]

    # --- plumbing -------------------------------------------------------------------------

    def _signed_in(self, handler: Handler, *, form: bool = False) -> Any:
        async def guarded(request: web.Request) -> web.StreamResponse:
            viewer = await viewer_of(self._hub, request)
            if viewer is None:
                if request.path.endswith((".json", ".csv")):
                    return _json_error(401, "Sign in first: POST /login with a key.")
                raise web.HTTPSeeOther("/login")
            if form:
                posted = await request.post()
                token = str(posted.get("csrf", ""))
                if not token or not hmac.compare_digest(token, viewer.csrf):
                    return self._page(request, "error.html", status=403, viewer=viewer,
                                      title="Form expired", message="This form has expired; "
                                      "go back, reload the page and try again.")  # fmt: skip
            try:
                return await handler(request, viewer)
            except HubError as exc:
                if request.path.endswith(".json"):
                    return _json_error(exc.status, exc.user_message)
                title = "Not found" if isinstance(exc, NotFound) else "Cannot show this"
                return self._page(request, "error.html", status=exc.status, viewer=viewer,
                                  title=title, message=exc.user_message)  # fmt: skip

        return guarded

    def _page(
        self, request: web.Request, name: str, *, status: int = 200, **context: Any
    ) -> web.Response:
        theme = request.cookies.get(THEME, "system")
        body = self._templates.get_template(name).render(
            theme=theme if theme in THEMES else "system",
            themes=THEMES,
            path=request.path,
            **context,
        )
        return web.Response(
            text=body, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
        )

    def _secure(self, request: web.Request) -> bool:
        return request.secure or self._hub.settings.server.public_url.startswith("https://")

    async def stylesheet(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self._css,
            content_type="text/css",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    async def script(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self._script,
            content_type="text/javascript",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    # --- signing in -----------------------------------------------------------------------

    async def login_form(self, request: web.Request) -> web.Response:
        if await viewer_of(self._hub, request) is not None:
            raise web.HTTPSeeOther("/")
        return self._login_page(request)

    def _login_page(
        self, request: web.Request, *, error: str = "", status: int = 200
    ) -> web.Response:
        token = secrets.token_urlsafe(24)
        response = self._page(request, "login.html", status=status, csrf=token, error=error,
                              viewer=None, title="Sign in")  # fmt: skip
        response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="Lax",
                            secure=self._secure(request), path="/login", max_age=3600)  # fmt: skip
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
        value, _ = seal(self._hub, key_id=key_id, hours=self._settings.session_hours)
        response = web.HTTPSeeOther("/")
        response.set_cookie(COOKIE, value, httponly=True, samesite="Lax", path="/",
                            secure=self._secure(request),
                            max_age=self._settings.session_hours * 3600)  # fmt: skip
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
        response.set_cookie(THEME, chosen, samesite="Lax", secure=self._secure(request),
                            path="/", max_age=365 * 86400)  # fmt: skip
        raise response

    # --- pages ----------------------------------------------------------------------------

    async def overview(self, request: web.Request, viewer: Viewer) -> web.Response:
        hub = self._hub
        now = hub.clock.now()
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        where = UsageFilter(team_id=None if viewer.team is None else viewer.team.id)
        by_day = await hub.usage.summary(since=month_start, until=None, where=where,
                                         group_by=["day"])  # fmt: skip
        spent = {str(r.group[0]): r.totals.cost_micros for r in by_day.rows}
        days = []  # every day of the month so far, those without usage too
        for n in range(now.day):
            day = f"{month_start + timedelta(days=n):%Y-%m-%d}"
            days.append(Point(day, spent.get(day, 0) / 1e6, format_usd(spent.get(day, 0))))
        by_model = await hub.usage.summary(since=month_start, until=None, where=where,
                                           group_by=["model"])  # fmt: skip
        models = sorted(by_model.rows, key=lambda r: -r.totals.cost_micros)[:10]
        model_points = [Point(str(r.group[0]), r.totals.cost_micros / 1e6,
                              format_usd(r.totals.cost_micros)) for r in models]  # fmt: skip
        teams: list[dict[str, Any]] = []
        budget = None
        if viewer.team is None:
            by_team = await hub.usage.summary(since=month_start, until=None, group_by=["team"])
            names = {t.id: t.name for t in await hub.teams.list()}
            for r in sorted(by_team.rows, key=lambda r: -r.totals.cost_micros):
                teams.append({"name": names.get(int(r.group[0] or 0), f"#{r.group[0]}"),
                              **_figures(r.totals)})  # fmt: skip
        else:
            budget = await hub.usage.month_status(Caller(viewer.team.id, viewer.team.name))
        total = by_day.total
        return self._page(
            request, "overview.html", viewer=viewer, title="Overview",
            month=f"{now:%B %Y}", figures=_figures(total), budget=budget, teams=teams,
            day_chart=columns(days, title=f"Spend per day, {now:%B %Y} (UTC)", chart_id="days"),
            days=days,
            model_chart=bars(model_points, title="Spend by model this month", chart_id="models"),
            models=[(r.group[0], _figures(r.totals)) for r in models],
            usage_link="/usage?" + urlencode({"group_by": "model", "tz": "UTC",
                "from": f"{month_start:%Y-%m-%d}", "to": f"{now:%Y-%m-%d}"}),
        )  # fmt: skip

    async def models(self, request: web.Request, viewer: Viewer) -> web.Response:
        """Model performance per deployment over the explorer's range (default: this month)."""
        try:
            query = parse_query(dict(request.query), today=self._hub.clock.now())
        except BadQuery as exc:
            return self._page(request, "error.html", status=400, viewer=viewer,
                              title="Cannot show this", message=exc.user_message)  # fmt: skip
        since, until = local_days(query.first, query.last, query.zone)
        where = UsageFilter(team_id=None if viewer.team is None else viewer.team.id)
        found = await self._hub.usage.summary(
            since=since, until=until, zone=query.zone, where=where, group_by=["deployment"]
        )
        rows = [(r.group[0] or "(none)", _performance(r.totals)) for r in found.rows]
        rows.sort(key=lambda row: -row[1]["requests"])
        latency = [Point(str(name), float(p["mean_latency_ms"] or 0), p["latency"])
                   for name, p in rows]  # fmt: skip
        return self._page(
            request, "models.html", viewer=viewer, title="Model performance", query=query,
            rows=rows, chart=bars(latency[:25], title="Mean latency per deployment",
                                  chart_id="latency"),
        )  # fmt: skip

    async def requests(self, request: web.Request, viewer: Viewer) -> web.Response:
        raw = request.query.get("before", "")
        before = int(raw) if raw.isdigit() else None
        team_id = None if viewer.team is None else viewer.team.id
        found = await self._hub.usage.recent(team_id=team_id, before_id=before, limit=50)
        teams = {t.id: t.name for t in await self._hub.teams.list()}
        return self._page(
            request, "requests.html", viewer=viewer, title="Requests", columns=TAIL_COLUMNS,
            rows=[_request_row(r, teams) for r in found],
            older=found[-1].id if len(found) == 50 else None,
        )  # fmt: skip

    async def requests_stream(self, request: web.Request, viewer: Viewer) -> web.StreamResponse:
        """Server-sent events: one `usage` event per committed request the viewer may see."""
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        })  # fmt: skip
        await response.prepare(request)
        await response.write(b": connected\n\n")
        teams = {t.id: t.name for t in await self._hub.teams.list()}
        async with self._hub.usage_feed.subscribe() as queue:
            while True:
                try:
                    entry = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if viewer.team is not None and entry.caller.team_id != viewer.team.id:
                    continue
                if entry.caller.team_id not in teams:
                    teams = {t.id: t.name for t in await self._hub.teams.list()}
                row = RecordedRequest.from_entry(entry, at=self._hub.clock.now())
                data = json.dumps(_request_row(row, teams))
                await response.write(f"event: usage\ndata: {data}\n\n".encode())

    async def _explored(self, request: web.Request, viewer: Viewer) -> Explored:
        given = {name: request.query.get(name, "") for name in request.query}
        given["group_by"] = ",".join(g for g in request.query.getall("group_by", []) if g)
        query = parse_query(given, today=self._hub.clock.now())
        if "team" in query.filters and viewer.team is not None:
            if query.filters["team"] != viewer.team.name:
                raise NotFound(f"No team named {query.filters['team']!r}.")
        return await explore(self._hub, viewer, query)

    async def usage(self, request: web.Request, viewer: Viewer) -> web.Response:
        try:
            explored = await self._explored(request, viewer)
        except BadQuery as exc:
            return self._page(request, "error.html", status=400, viewer=viewer,
                              title="Cannot show this", message=exc.user_message)  # fmt: skip
        query = explored.query
        points = [
            Point(" · ".join(label or "(none)" for label in row.labels),
                  metric_value(row.totals, query.metric), _metric_text(row.totals, query.metric))
            for row in explored.rows
        ]  # fmt: skip
        over_time = query.group_by[0] in ("day", "hour")
        title = f"{METRICS[query.metric]} by {' and '.join(GROUP_NAMES[g] for g in query.group_by)}"
        chart = (columns(points, title=title, chart_id="usage") if over_time
                 else bars(points[:25], title=title, chart_id="usage"))  # fmt: skip
        exports = urlencode(query.url_params())
        return self._page(
            request, "usage.html", viewer=viewer, title="Usage", query=query, chart=chart,
            rows=[(row.labels, _figures(row.totals)) for row in explored.rows],
            total=_figures(explored.total), groups=GROUPS, group_names=GROUP_NAMES,
            metrics=METRICS, text_filters=TEXT_FILTERS, exports=exports,
            shown=len(points), charted=len(points) if over_time else min(25, len(points)),
        )  # fmt: skip

    async def usage_json(self, request: web.Request, viewer: Viewer) -> web.Response:
        explored = await self._explored(request, viewer)
        return web.json_response(as_json(explored), headers={"Cache-Control": "no-store"})

    async def usage_csv(self, request: web.Request, viewer: Viewer) -> web.Response:
        explored = await self._explored(request, viewer)
        name = f"usage-{explored.query.first}-{explored.query.last}.csv"
        return web.Response(
            text=as_csv(explored), content_type="text/csv", charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"',
                     "Cache-Control": "no-store"},
        )  # fmt: skip


TAIL_COLUMNS = ("at", "team", "connector", "user", "model", "deployment", "status", "tokens",
                "cost", "latency", "ttft")  # fmt: skip


def _request_row(r: RecordedRequest, teams: dict[int, str]) -> dict[str, Any]:
    """A request as the log shows it: no prompt, no answer (a usage record has neither)."""
    return {
        "request_id": r.request_id, "at": f"{r.at:%Y-%m-%d %H:%M:%S}",
        "team": teams.get(r.team_id, f"#{r.team_id}"), "connector": r.connector,
        "user": r.user, "model": r.alias, "deployment": r.deployment, "status": r.status,
        "tokens": f"{r.prompt_tokens + r.completion_tokens:,}", "cost": format_usd(r.cost_micros),
        "latency": f"{r.latency_ms} ms", "ttft": None if r.ttft_ms is None else f"{r.ttft_ms} ms",
    }  # fmt: skip


def _performance(totals: UsageTotals) -> dict[str, Any]:
    """A deployment's figures: rates and means from the rollups' sums."""
    figures = _figures(totals)
    generating_s = (totals.latency_ms - totals.ttft_ms) / 1000
    figures["latency"] = (
        "–" if figures["mean_latency_ms"] is None else f"{figures['mean_latency_ms']} ms"
    )
    figures["ttft"] = "–" if figures["mean_ttft_ms"] is None else f"{figures['mean_ttft_ms']} ms"
    figures["tokens_per_s"] = (
        f"{totals.completion_tokens / generating_s:,.1f}" if generating_s > 0 else "–"
    )
    figures["per_1k"] = (
        format_usd(totals.cost_micros * 1000 // totals.requests) if totals.requests else "–"
    )
    return figures


def _figures(totals: UsageTotals) -> dict[str, Any]:
    figures = totals_json(totals)
    figures["cost"] = format_usd(totals.cost_micros)
    figures["error_rate"] = f"{totals.errors / totals.requests:.1%}" if totals.requests else "–"
    return figures


def _metric_text(totals: UsageTotals, metric: str) -> str:
    if metric == "cost":
        return format_usd(totals.cost_micros)
    return f"{int(metric_value(totals, metric)):,}"


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message}}, status=status)
