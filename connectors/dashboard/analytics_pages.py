"""The analytics pages: overview, usage explorer and its exports, model performance, and the
requests log with its live tail."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from connectors.dashboard.charts import Point, bars, columns
from connectors.dashboard.explorer import (
    GROUP_NAMES,
    GROUPS,
    METRICS,
    TEXT_FILTERS,
    BadQuery,
    Explored,
    Row,
    as_csv,
    as_json,
    explore,
    metric_value,
    parse_filters,
    parse_query,
    totals_json,
    usage_filter,
)
from connectors.dashboard.i18n import N_, Numbers, machine_time
from connectors.dashboard.kit import Kit, NavItem
from connectors.dashboard.performance import latencies, performance
from connectors.dashboard.refusal import Missing
from connectors.dashboard.sessions import Viewer
from connectors.dashboard.usage_table import table_rows, time_text
from hub.ledger.latency_bins import RELATIVE_ERROR
from hub.ledger.reports import RecordedRequest, matches
from hub.ledger.summary import UsageFilter
from hub.ledger.summary_plan import local_days
from hub.ledger.usage_totals import UsageTotals
from hub.model import Caller

NAV = (
    NavItem("/", N_("Overview")),
    NavItem("/usage", N_("Usage")),
    NavItem("/models", N_("Models")),
    NavItem("/requests", N_("Requests")),
)


class AnalyticsPages:
    def __init__(self, kit: Kit) -> None:
        self._kit = kit

    def routes(self) -> list[web.RouteDef]:
        guard = self._kit.signed_in
        return [
            web.get("/", guard(self.overview)),
            web.get("/usage", guard(self.usage)),
            web.get("/usage.csv", guard(self.usage_csv)),
            web.get("/usage.json", guard(self.usage_json)),
            web.get("/models", guard(self.models)),
            web.get("/requests", guard(self.requests)),
            web.get("/requests/stream", guard(self.requests_stream)),
        ]

    async def overview(self, request: web.Request, viewer: Viewer) -> web.Response:
        hub = self._kit.hub
        cat, num = self._kit.catalogue(request), self._kit.numbers(request)
        _ = cat.gettext
        now = hub.clock.now()
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        where = UsageFilter(team_id=None if viewer.team is None else viewer.team.id)
        by_day = await hub.usage.summary(since=month_start, until=None, where=where,
                                         group_by=["day"])  # fmt: skip
        spent = {str(r.group[0]): r.totals.cost_micros for r in by_day.rows}
        days = []  # every day of the month so far, those without usage too
        for n in range(now.day):
            moment = month_start + timedelta(days=n)
            day = f"{moment:%Y-%m-%d}"
            days.append(Point(num.day(moment.date()), spent.get(day, 0) / 1e6,
                              num.usd(spent.get(day, 0)), axis=num.short_day(moment.date()),
                              iso=day))  # fmt: skip
        by_model = await hub.usage.summary(since=month_start, until=None, where=where,
                                           group_by=["model"])  # fmt: skip
        models = sorted(by_model.rows, key=lambda r: -r.totals.cost_micros)[:10]
        model_points = [Point(str(r.group[0]), r.totals.cost_micros / 1e6,
                              num.usd(r.totals.cost_micros)) for r in models]  # fmt: skip
        teams: list[dict[str, Any]] = []
        budget = None
        if viewer.team is None:
            by_team = await hub.usage.summary(since=month_start, until=None, group_by=["team"])
            names = {t.id: t.name for t in await hub.teams.list()}
            for r in sorted(by_team.rows, key=lambda r: -r.totals.cost_micros):
                teams.append({"name": names.get(int(r.group[0] or 0), f"#{r.group[0]}"),
                              **_figures(r.totals, num)})  # fmt: skip
        else:
            budget = await hub.usage.month_status(Caller(viewer.team.id, viewer.team.name))
        total = by_day.total
        measured = (await latencies(hub, since=month_start, until=None, zone=UTC, where=where)
                    ).get(())  # fmt: skip
        speed = {name: num.ms(value)
                 for name, value in (measured.figures() if measured else {}).items()}  # fmt: skip
        month = num.month(now)
        return self._kit.page(
            request, "overview.html", viewer=viewer, title=_("Overview"), speed=speed,
            resolution="±" + num.percent(RELATIVE_ERROR), month=month,
            figures=_figures(total, num), budget=budget,
            resets=None if budget is None else num.moment(budget.resets_at), teams=teams,
            day_chart=columns(days, title=_("Spend per day, %(month)s (UTC)") % {"month": month},
                              chart_id="days", words=cat),
            days=days,
            model_chart=bars(model_points, title=_("Spend by model this month"),
                             chart_id="models", words=cat),
            models=[(r.group[0], _figures(r.totals, num)) for r in models],
            usage_link="/usage?" + urlencode({"group_by": "model", "tz": "UTC",
                "from": f"{month_start:%Y-%m-%d}", "to": f"{now:%Y-%m-%d}"}),
        )  # fmt: skip

    async def models(self, request: web.Request, viewer: Viewer) -> web.Response:
        """Model performance per deployment over the explorer's range (default: this month),
        and per day for all deployments or the one chosen."""
        cat, num = self._kit.catalogue(request), self._kit.numbers(request)
        _ = cat.gettext
        try:
            query = parse_query(dict(request.query), today=self._kit.hub.clock.now())
        except BadQuery as exc:
            return self._kit.page(request, "error.html", status=400, viewer=viewer,
                              title=_("Cannot show this"), message=exc.shown(_))  # fmt: skip
        since, until = local_days(query.first, query.last, query.zone)
        hub = self._kit.hub
        team_id = None if viewer.team is None else viewer.team.id
        where = UsageFilter(team_id=team_id)
        zone = query.zone
        chosen = query.filters.get("deployment")
        daily_where = UsageFilter(team_id=team_id, deployment=chosen)
        # Four independent reads, each on its own connection, at the same time.
        found, measured, by_day, daily_measured = await asyncio.gather(
            hub.usage.summary(since=since, until=until, zone=zone, where=where,
                              group_by=["deployment"]),
            latencies(hub, since=since, until=until, zone=zone, where=where,
                      group_by=("deployment",)),
            hub.usage.summary(since=since, until=until, zone=zone, where=daily_where,
                              group_by=["day"]),
            latencies(hub, since=since, until=until, zone=zone, where=daily_where,
                      group_by=("day",)),
        )  # fmt: skip
        rows = [(str(r.group[0] or _("(none)")),
                 performance(r.totals, measured.get(r.group), numbers=num))
                for r in found.rows]  # fmt: skip
        rows.sort(key=lambda row: -row[1]["requests"])
        sums = {str(r.group[0]): r.totals for r in by_day.rows}
        days = []  # (ISO day, as the language writes it, figures)
        day = query.first
        while day <= query.last:
            label = day.isoformat()
            measured_day = daily_measured.get((label,))
            days.append((label, num.day(day), performance(sums.get(label, UsageTotals()),
                                                          measured_day, numbers=num)))  # fmt: skip
            day += timedelta(days=1)
        p95 = [Point(name, float(p["latency_p95"] or 0), p["latency_p95_text"])
               for name, p in rows]  # fmt: skip
        over_time = [Point(text, float(p["latency_p95"] or 0), p["latency_p95_text"],
                           axis=num.short_day(date.fromisoformat(iso)), iso=iso)
                     for iso, text, p in days]  # fmt: skip
        return self._kit.page(
            request, "models.html", viewer=viewer, title=_("Model performance"), query=query,
            rows=rows, days=days, chosen=chosen, resolution="±" + num.percent(RELATIVE_ERROR),
            deployments=[name for name, p in rows if name != _("(none)")],
            chart=bars(p95[:25], title=_("p95 latency per deployment"), chart_id="latency",
                       words=cat),
            day_chart=columns(over_time, title=_("p95 latency per day (%(which)s)")
                              % {"which": chosen or _("all deployments")},
                              chart_id="latency-days", words=cat),
        )  # fmt: skip

    async def requests(self, request: web.Request, viewer: Viewer) -> web.Response:
        cat = self._kit.catalogue(request)
        raw = request.query.get("before", "")
        before = int(raw) if raw.isdigit() else None
        try:
            filters = parse_filters(request.query)
        except BadQuery as exc:
            return self._kit.page(request, "error.html", status=400, viewer=viewer,
                                  title=cat.gettext("Cannot show this"),
                                  message=exc.shown(cat.gettext))  # fmt: skip
        where = await usage_filter(self._kit.hub, viewer, filters)
        found = await self._kit.hub.usage.recent(where=where, before_id=before, limit=50)
        teams = {t.id: t.name for t in await self._kit.hub.teams.list()}
        num = self._kit.numbers(request)
        older = None
        if len(found) == 50:
            older = "/requests?" + urlencode({**filters, "before": str(found[-1].id)})
        return self._kit.page(
            request, "requests.html", viewer=viewer,
            title=self._kit.gettext(request, N_("Requests")), columns=TAIL_COLUMNS,
            rows=[_request_row(r, teams, num) for r in found], older=older, filters=filters,
            text_filters=TEXT_FILTERS,
            group_names={g: cat.gettext(name) for g, name in GROUP_NAMES.items()},
        )  # fmt: skip

    async def requests_stream(self, request: web.Request, viewer: Viewer) -> web.StreamResponse:
        """Server-sent events: one `usage` event per committed request the viewer may see."""
        # The page's filters (tail.js sends its query): only the rows the page would list.
        where = await usage_filter(self._kit.hub, viewer, parse_filters(request.query))
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        })  # fmt: skip
        await response.prepare(request)
        await response.write(b": connected\n\n")
        teams = {t.id: t.name for t in await self._kit.hub.teams.list()}
        num = self._kit.numbers(request)  # the live rows read like the page's own
        async with self._kit.hub.usage_feed.subscribe() as queue:
            while True:
                try:
                    entry = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                row = RecordedRequest.from_entry(entry, at=self._kit.hub.clock.now())
                if not matches(where, row):  # another team's, or filtered out
                    continue
                if entry.caller.team_id not in teams:
                    teams = {t.id: t.name for t in await self._kit.hub.teams.list()}
                data = json.dumps(_request_row(row, teams, num))
                await response.write(f"event: usage\ndata: {data}\n\n".encode())

    async def _explored(self, request: web.Request, viewer: Viewer) -> Explored:
        given = {name: request.query.get(name, "") for name in request.query}
        given["group_by"] = ",".join(g for g in request.query.getall("group_by", []) if g)
        query = parse_query(given, today=self._kit.hub.clock.now())
        if "team" in query.filters and viewer.team is not None:
            if query.filters["team"] != viewer.team.name:
                raise Missing(N_("No team named %(name)s."), name=repr(query.filters["team"]))
        return await explore(self._kit.hub, viewer, query)

    async def usage(self, request: web.Request, viewer: Viewer) -> web.Response:
        cat, num = self._kit.catalogue(request), self._kit.numbers(request)
        _ = cat.gettext
        try:
            explored = await self._explored(request, viewer)
        except BadQuery as exc:
            return self._kit.page(request, "error.html", status=400, viewer=viewer,
                              title=_("Cannot show this"), message=exc.shown(_))  # fmt: skip
        query = explored.query
        over_time = query.group_by[0] in ("day", "hour")
        # A bar chart shows the top 25 rows (the table has every row): only those are charted.
        charted = explored.rows if over_time else explored.rows[:25]
        shown: dict[tuple[str, str], str] = {}  # each day or hour formatted once
        points = [
            _point(query.group_by, row, query.metric, num, none=_("(none)"), shown=shown)
            for row in charted
        ]
        group_names = {g: _(name) for g, name in GROUP_NAMES.items()}
        metrics = {m: _(name) for m, name in METRICS.items()}
        groups = [group_names[g] for g in query.group_by]
        if len(groups) == 1:
            title = _("%(metric)s by %(group)s") % {"metric": metrics[query.metric],
                                                     "group": groups[0]}  # fmt: skip
        else:
            title = _("%(metric)s by %(group)s and %(then)s") % {
                "metric": metrics[query.metric], "group": groups[0], "then": groups[1]}  # fmt: skip
        chart = (columns(points, title=title, chart_id="usage", words=cat) if over_time
                 else bars(points, title=title, chart_id="usage", words=cat))  # fmt: skip
        exports = urlencode(query.url_params())
        return self._kit.page(
            request, "usage.html", viewer=viewer, title=_("Usage"), query=query, chart=chart,
            chart_title=title,
            rows_html=table_rows(query.group_by, explored.rows, num, none=_("(none)"),
                                 shown=shown),
            total=_figures(explored.total, num), groups=GROUPS, group_names=group_names,
            metrics=metrics, text_filters=TEXT_FILTERS, exports=exports,
            shown=len(explored.rows), charted=len(points),
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


def _request_row(r: RecordedRequest, teams: dict[int, str], num: Numbers) -> dict[str, Any]:
    """A request as the log shows it: no prompt, no answer (a usage record has neither)."""
    return {
        "request_id": r.request_id, "at": num.moment(r.at), "at_iso": machine_time(r.at),
        "team": teams.get(r.team_id, f"#{r.team_id}"), "connector": r.connector,
        "user": r.user, "model": r.alias, "deployment": r.deployment, "status": r.status,
        "tokens": num.integer(r.prompt_tokens + r.completion_tokens),
        "cost": num.usd(r.cost_micros), "latency": num.ms(r.latency_ms),
        "ttft": None if r.ttft_ms is None else num.ms(r.ttft_ms),
    }  # fmt: skip


def _point(
    group_by: tuple[str, ...], row: Row, metric: str, num: Numbers, *, none: str,
    shown: dict[tuple[str, str], str],
) -> Point:  # fmt: skip
    """A row as a chart's point: its labels as the table writes them (days and hours in the
    page's language and the query's timezone), and under a column over time the first one
    shorter (`Nov 20`, `Nov 20, 1:00 PM`)."""
    texts = []
    for dimension, label in zip(group_by, row.labels, strict=True):
        if label is not None and dimension in ("day", "hour"):
            text = shown.get((dimension, label))
            if text is None:
                text = shown[dimension, label] = time_text(dimension, label, num)
            texts.append(text)
        else:
            texts.append(label or none)
    axis, iso = "", ""
    first = row.labels[0] if row.labels else None
    if first is not None and group_by[0] in ("day", "hour"):
        iso = first
        axis = (num.short_day(date.fromisoformat(first)) if group_by[0] == "day"
                else num.short_minute(datetime.fromisoformat(first)))  # fmt: skip
    return Point(" · ".join(texts), metric_value(row.totals, metric),
                 _metric_text(row.totals, metric, num), axis=axis, iso=iso)  # fmt: skip


def _figures(totals: UsageTotals, num: Numbers) -> dict[str, Any]:
    """The raw figures (as the JSON export has them) and, as the page shows them, `cost`,
    `error_rate` and `mean_latency`."""
    figures = totals_json(totals)
    figures["cost"] = num.usd(totals.cost_micros)
    figures["error_rate"] = num.percent(totals.errors / totals.requests) if totals.requests else "–"
    mean = figures["mean_latency_ms"]
    figures["mean_latency"] = "–" if mean is None else f"{num.integer(mean)} ms"
    return figures


def _metric_text(totals: UsageTotals, metric: str, num: Numbers) -> str:
    if metric == "cost":
        return num.usd(totals.cost_micros)
    return num.integer(int(metric_value(totals, metric)))
