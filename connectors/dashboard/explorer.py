"""The usage explorer's query (all of it in the URL) and its rows, as the page, the CSV and
the JSON export show them: the same rows, from `hub.usage.summary`, so they cannot differ."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from connectors.dashboard.i18n import N_
from connectors.dashboard.refusal import Missing, Worded
from connectors.dashboard.sessions import Viewer
from hub.errors import BadRequest, HubError
from hub.ledger.money import micros_to_usd
from hub.ledger.summary import Dimension, GroupValue, SummaryRow, UsageFilter, UsageSummary
from hub.ledger.summary_plan import local_days
from hub.ledger.usage_totals import UsageTotals
from hub.service import Hub

# The explorer's group-by choices (the contract's twelve, and status).
GROUPS: tuple[Dimension, ...] = (
    "team", "member", "key", "model", "deployment", "connector", "slack_workspace",
    "slack_channel", "discord_guild", "discord_channel", "day", "hour", "status",
)  # fmt: skip
GROUP_NAMES = {  # N_: translated by the page
    "team": N_("Team"), "member": N_("Member"), "key": N_("Key"), "model": N_("Model"),
    "deployment": N_("Deployment"), "connector": N_("Connector"),
    "slack_workspace": N_("Slack workspace"), "slack_channel": N_("Slack channel"),
    "discord_guild": N_("Discord server"), "discord_channel": N_("Discord channel"),
    "day": N_("Day"), "hour": N_("Hour"), "status": N_("Status"),
}  # fmt: skip
METRICS = {"cost": N_("Cost (USD)"), "requests": N_("Requests"), "tokens": N_("Tokens"),
           "errors": N_("Errors")}  # fmt: skip
# Filters taken as they are (the team and member are names, resolved below).
TEXT_FILTERS = (
    "model", "deployment", "connector", "slack_workspace", "slack_channel", "discord_guild",
    "discord_channel", "status",
)  # fmt: skip
MAX_DAYS = 400


class BadQuery(Worded, BadRequest):
    """A query the explorer cannot answer; the message says which parameter and why."""


@dataclass(frozen=True, slots=True)
class ExplorerQuery:
    group_by: tuple[Dimension, ...]
    first: date
    last: date
    zone_name: str
    metric: str
    filters: dict[str, str] = field(default_factory=dict)  # as given in the URL

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.zone_name)

    def url_params(self, **changes: str | None) -> dict[str, str]:
        params = {
            "group_by": ",".join(self.group_by),
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "tz": self.zone_name,
            "metric": self.metric,
            **self.filters,
        }
        for name, value in changes.items():
            if value is None:
                params.pop(name, None)
            else:
                params[name] = value
        return {k: v for k, v in params.items() if v}


def parse_query(query: Mapping[str, str], *, today: datetime) -> ExplorerQuery:
    zone_name = query.get("tz", "UTC") or "UTC"
    if len(zone_name) > 64 or zone_name not in _zones():
        raise BadQuery(N_("Unknown timezone %(zone)s; use an IANA name like Europe/Paris."),
                       zone=repr(zone_name[:64]))  # fmt: skip
    zone = ZoneInfo(zone_name)
    local_today = today.astimezone(zone).date()
    first = _date(query, "from", local_today.replace(day=1))
    last = _date(query, "to", local_today)
    if last < first:
        raise BadQuery(N_("'to' (%(last)s) is before 'from' (%(first)s)."), last=last, first=first)
    if (last - first).days >= MAX_DAYS:
        raise BadQuery(N_("Pick at most %(days)s days."), days=MAX_DAYS)
    names = [g for g in (query.get("group_by") or "model").split(",") if g][:2]
    for name in names:
        if name not in GROUPS:
            raise BadQuery(N_("Unknown group_by %(name)s; one of: %(names)s."),
                           name=repr(name[:40]), names=", ".join(GROUPS))  # fmt: skip
    metric = query.get("metric") or "cost"
    if metric not in METRICS:
        raise BadQuery(N_("Unknown metric %(name)s; one of: %(names)s."),
                       name=repr(metric[:40]), names=", ".join(METRICS))  # fmt: skip
    filters = parse_filters(query)
    return ExplorerQuery(tuple(names), first, last, zone_name, metric, filters)  # type: ignore[arg-type]


def parse_filters(query: Mapping[str, str]) -> dict[str, str]:
    """The filters a query asks for (the explorer's and the requests log's), by name."""
    filters = {}
    for name in (*TEXT_FILTERS, "team", "member", "key"):
        value = (query.get(name) or "").strip()
        if value:
            if len(value) > 200:
                raise BadQuery(N_("'%(name)s' is too long."), name=name)
            filters[name] = value
    return filters


@cache  # available_timezones() opens every zone file on each call (600 files, 10 ms)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones() | {"UTC"})


def _date(query: Mapping[str, str], name: str, default: date) -> date:
    raw = query.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadQuery(N_("'%(name)s' must be a date, YYYY-MM-DD."), name=name) from None


@dataclass(frozen=True, slots=True)
class Row:
    labels: tuple[str | None, ...]
    totals: UsageTotals


@dataclass(frozen=True, slots=True)
class Explored:
    query: ExplorerQuery
    rows: list[Row]
    total: UsageTotals


async def explore(hub: Hub, viewer: Viewer, query: ExplorerQuery) -> Explored:
    """The rows for this viewer: a team's own usage only; anything else is NotFound (404)."""
    where = await usage_filter(hub, viewer, query.filters)
    since, until = local_days(query.first, query.last, query.zone)
    summary = await hub.usage.summary(
        since=since, until=until, zone=query.zone, where=where, group_by=query.group_by
    )
    # One lookup per team, key...; then each row's labels without a coroutine per row (an
    # hour table has some 1,800 rows).
    memo: dict[tuple[Dimension, GroupValue], str | None] = {}
    for r in summary.rows:
        for pair in zip(query.group_by, r.group, strict=True):
            if pair not in memo:
                memo[pair] = await label_of(hub, *pair)
    rows = [Row(tuple(memo[pair] for pair in zip(query.group_by, r.group, strict=True)),
                r.totals) for r in _ordered(summary)]  # fmt: skip
    return Explored(query, rows, summary.total)


def _ordered(summary: UsageSummary) -> list[SummaryRow]:
    if summary.group_by and summary.group_by[0] in ("day", "hour"):
        return summary.rows
    return sorted(summary.rows, key=lambda r: (-r.totals.cost_micros, -r.totals.requests))


async def usage_filter(hub: Hub, viewer: Viewer, filters: Mapping[str, str]) -> UsageFilter:
    """The usage `filters` select, within what `viewer` may see (another team: Missing)."""
    team_id = None if viewer.team is None else viewer.team.id
    if "team" in filters:
        try:
            team = await hub.teams.get(filters["team"])
        except HubError:
            raise Missing(N_("No team named %(name)s."), name=repr(filters["team"])) from None
        if team_id is not None and team.id != team_id:
            raise Missing(N_("No team named %(name)s."), name=repr(filters["team"]))
        team_id = team.id
    member_id = None
    if "member" in filters:
        if team_id is None:
            raise BadQuery(N_("Filter by team before filtering by member."))
        try:
            member = await hub.members.get(await hub.teams.get_by_id(team_id), filters["member"])
        except HubError:
            raise Missing(N_("No member named %(name)s in this team."),
                          name=repr(filters["member"])) from None  # fmt: skip
        member_id = member.id
    key_id = None
    if "key" in filters:
        key_id = await _own_key(hub, filters["key"], team_id)
    return UsageFilter(
        team_id=team_id, member_id=member_id, key_id=key_id,
        **{name: filters.get(name) for name in TEXT_FILTERS},
    )  # fmt: skip


async def _own_key(hub: Hub, raw: str, team_id: int | None) -> int:
    if not raw.isdigit():
        raise BadQuery(N_("'key' is a key's id (a number)."))
    try:
        key = await hub.keys.get(int(raw))
    except HubError:
        raise Missing(N_("No key with id %(id)s."), id=raw) from None
    if team_id is not None and key.team_id != team_id:
        raise Missing(N_("No key with id %(id)s."), id=raw)
    return key.id


async def label_of(hub: Hub, dimension: Dimension, value: GroupValue) -> str | None:
    """A group value as people read it: team and member names, a key's name and prefix."""
    if value is None:
        return None
    try:
        if dimension == "team":
            return (await hub.teams.get_by_id(int(value))).name
        if dimension == "member":
            return (await hub.members.get_by_id(int(value))).name
        if dimension == "key":
            key = await hub.keys.get(int(value))
            return f"{key.name or 'key'} ({key.prefix}…) #{key.id}"
    except HubError:
        return f"#{value} (deleted)"
    return str(value)


def totals_json(totals: UsageTotals) -> dict[str, Any]:
    return {
        "requests": totals.requests,
        "prompt_tokens": totals.prompt_tokens,
        "completion_tokens": totals.completion_tokens,
        "cost_usd": micros_to_usd(totals.cost_micros),
        "total_tokens": totals.prompt_tokens + totals.completion_tokens,
        "cost_micros": totals.cost_micros,
        "errors": totals.errors,
        "cached_requests": totals.cached_requests,
        "mean_latency_ms": round(totals.latency_ms / totals.requests) if totals.requests else None,
        "mean_ttft_ms": (
            round(totals.ttft_ms / totals.ttft_requests) if totals.ttft_requests else None
        ),
    }


def as_json(explored: Explored) -> dict[str, Any]:
    query = explored.query
    rows = [
        {**dict(zip(query.group_by, row.labels, strict=True)), **totals_json(row.totals)}
        for row in explored.rows
    ]
    return {
        "group_by": list(query.group_by),
        "from": query.first.isoformat(),
        "to": query.last.isoformat(),
        "tz": query.zone_name,
        "filters": query.filters,
        "rows": rows,
        "total": totals_json(explored.total),
    }


CSV_COLUMNS = ("requests", "prompt_tokens", "completion_tokens", "cost_usd", "errors")


def as_csv(explored: Explored) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*explored.query.group_by, *CSV_COLUMNS])
    for row in explored.rows:
        values = totals_json(row.totals)
        labels = [_safe_cell(label or "") for label in row.labels]
        writer.writerow([*labels, *(values[c] for c in CSV_COLUMNS)])
    total = totals_json(explored.total)
    writer.writerow(
        ["total", *[""] * (len(explored.query.group_by) - 1), *(total[c] for c in CSV_COLUMNS)]
    )
    return buffer.getvalue()


def _safe_cell(text: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: quote them."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def metric_value(totals: UsageTotals, metric: str) -> float:
    if metric == "cost":
        return totals.cost_micros / 1_000_000
    if metric == "requests":
        return totals.requests
    if metric == "errors":
        return totals.errors
    return totals.prompt_tokens + totals.completion_tokens


def shift_days(day: date, days: int) -> date:
    return day + timedelta(days=days)
