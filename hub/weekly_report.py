"""The weekly report (#16): each team's usage over the past week (Monday to Sunday, UTC) and
its top cost suggestions, posted to its notice channel (hub.notices: Slack or Discord) and
sent as a `report.weekly` event to its subscriptions.

Every process's scheduler fires the job; for each team one process claims the team's week
(hub.jobs.claim, a unique row), so two schedulers racing send each report once. The numbers
are the dashboard's: the week's totals are `hub.usage.summary` over the same days (the usage
explorer with `from`/`to` that week and `tz=UTC`), the suggestions `hub.suggestions`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from hub.ledger.latency_bins import format_ms
from hub.ledger.money import format_usd, micros_to_usd
from hub.ledger.summary import UsageFilter
from hub.ledger.summary_plan import DAY, floor_day
from hub.ledger.usage_totals import UsageTotals
from hub.store.ledger_tables import Team
from hub.suggestions import Suggestion

if TYPE_CHECKING:
    from hub.service import Hub

log = logging.getLogger("hub.reports")
JOB = "report-weekly"
EVENT = "report.weekly"
TOP_MODELS = 3


def requests(n: int) -> str:
    return f"{n:,} request" if n == 1 else f"{n:,} requests"


def last_week(now: datetime) -> tuple[datetime, datetime]:
    """The last whole Monday-to-Sunday UTC week before `now`: [Monday 00:00, next Monday)."""
    today = floor_day(now)
    end = today - timedelta(days=today.weekday())
    return end - 7 * DAY, end


def week_label(start: datetime) -> str:
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    team: str
    week: str
    first: date
    last: date
    total: UsageTotals
    previous: UsageTotals  # the week before, for the change
    latency_p50_ms: int | None
    latency_p95_ms: int | None
    models: list[tuple[str, UsageTotals]] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    link: str | None = None

    def text(self) -> str:
        t = self.total
        tokens = t.prompt_tokens + t.completion_tokens
        errors = f"{t.errors / t.requests:.1%}" if t.requests else "no"
        lines = [
            f"Weekly report for {self.team}, {self.first} to {self.last} (UTC): "
            f"{format_usd(t.cost_micros)} on {requests(t.requests)} ({tokens:,} tokens), "
            f"{errors} errors; latency p50 {format_ms(self.latency_p50_ms)}, "
            f"p95 {format_ms(self.latency_p95_ms)}. The week before: "
            f"{format_usd(self.previous.cost_micros)} on {requests(self.previous.requests)}."
        ]
        if self.models:
            shown = ", ".join(
                f"`{alias}` {format_usd(m.cost_micros)} ({requests(m.requests)})"
                for alias, m in self.models
            )
            lines.append(f"Top models: {shown}.")
        if self.suggestions:
            lines.append("Suggestions:")
            lines += [f"{n}. {s.text}" for n, s in enumerate(self.suggestions, 1)]
        if self.link:
            lines.append(f"Details: {self.link}")
        return "\n".join(lines)

    def event_data(self) -> dict[str, Any]:
        t = self.total
        return {
            "team": self.team,
            "week": self.week,
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "requests": t.requests,
            "prompt_tokens": t.prompt_tokens,
            "completion_tokens": t.completion_tokens,
            "cost_usd": micros_to_usd(t.cost_micros),
            "errors": t.errors,
            "latency_p50_ms": self.latency_p50_ms,
            "latency_p95_ms": self.latency_p95_ms,
            "previous_cost_usd": micros_to_usd(self.previous.cost_micros),
            "previous_requests": self.previous.requests,
            "models": [
                {"model": alias, "requests": m.requests, "cost_usd": micros_to_usd(m.cost_micros)}
                for alias, m in self.models
            ],
            "suggestions": [
                {"kind": s.kind, "text": s.text, "saving_usd": micros_to_usd(s.saving_micros)}
                for s in self.suggestions
            ],
            "text": self.text(),
        }


class WeeklyReports:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def build(self, team: Team, *, start: datetime, end: datetime) -> WeeklyReport:
        hub = self._hub
        where = UsageFilter(team_id=team.id)
        week = await hub.usage.summary(since=start, until=end, where=where, group_by=["model"])
        before = await hub.usage.summary(since=start - 7 * DAY, until=start, where=where)
        latency = (await hub.usage.histograms("latency", since=start, until=end, where=where)).get(
            ()
        )
        models = sorted(week.rows, key=lambda r: (-r.totals.cost_micros, -r.totals.requests))
        advice = await hub.suggestions.for_team(team.id)
        first, last = start.date(), (end - DAY).date()
        public = hub.settings.server.public_url.rstrip("/")
        query = {"group_by": "model", "from": first.isoformat(), "to": last.isoformat(),
                 "tz": "UTC", "team": team.name}  # fmt: skip
        return WeeklyReport(
            team=team.name,
            week=week_label(start),
            first=first,
            last=last,
            total=week.total,
            previous=before.total,
            latency_p50_ms=None if latency is None else latency.percentile(0.5),
            latency_p95_ms=None if latency is None else latency.percentile(0.95),
            models=[(str(r.group[0]), r.totals) for r in models[:TOP_MODELS]],
            suggestions=advice.suggestions[: hub.settings.reports.suggestions],
            link=f"{public}/usage?{urlencode(query)}" if public else None,
        )

    async def tick(self) -> list[WeeklyReport]:
        """The scheduled job: every team's report on last week that this process claims."""
        start, end = last_week(self._hub.clock.now())
        sent = []
        for team in await self._hub.teams.list():
            if team.archived_at is not None:
                continue
            if not await self._hub.jobs.claim(JOB, period=f"{week_label(start)}:{team.id}"):
                continue  # another process reports this team's week
            try:
                report = await self.build(team, start=start, end=end)
                await self.send(team, report)
            except Exception:  # noqa: BLE001 - one team's failure must not stop the others'
                log.exception("the weekly report of team %s failed", team.name)
                continue
            sent.append(report)
        return sent

    async def send(self, team: Team, report: WeeklyReport) -> None:
        async with self._hub.sessions.begin() as session:
            await self._hub.events.emit(
                session, team_id=team.id, type=EVENT, data=report.event_data()
            )
        await self._hub.notices.post(team.id, [report.text()], what="weekly report")


def add_weekly_report_job(scheduler: AsyncIOScheduler, hub: Hub) -> None:
    settings = hub.settings.reports
    if not settings.weekly:
        return
    scheduler.add_job(
        WeeklyReports(hub).tick,
        "cron",
        day_of_week=settings.weekly_day,
        hour=settings.weekly_hour,
        minute=0,
        id=JOB,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=6 * 3600,  # a process started late that morning still sends it
    )
