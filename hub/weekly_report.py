"""The weekly report (#16): each team's usage over the past week (Monday to Sunday, UTC) and
its top cost suggestions, posted to its notice channel (hub.notices: Slack or Discord) and
sent as a `report.weekly` event to its subscriptions.

Every process's scheduler fires the job; for each team one process claims the team's week
(hub.jobs.claim, a unique row), so two schedulers racing send each report once. A report
whose post (or event) failed is marked due again (another claimed row, `report-weekly-due`)
and sent by the next run (each run, and an hourly retry, take the marks; one process takes
each), for up to RETRY_WEEKS weeks; the part that went out is not sent twice. The numbers
are the dashboard's: the week's totals are `hub.usage.summary` over the same days (the usage
explorer with `from`/`to` that week and `tz=UTC`), the suggestions `hub.suggestions`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
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
DUE = "report-weekly-due"  # a claimed week whose post (":post") or everything (":all") failed
RETRY = "report-weekly-retry"
RETRY_WEEKS = 4  # a report still failing after this many weeks is given up (logged)
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


def week_start(label: str) -> datetime:
    """The Monday 00:00 UTC a `week_label` names."""
    year, week = label.split("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


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
        """The scheduled job: the reports that earlier runs could not send, then every team's
        report on last week that this process claims."""
        sent = await self.retry()
        start, end = last_week(self._hub.clock.now())
        for team in await self._hub.teams.list():
            if team.archived_at is not None:
                continue
            period = f"{week_label(start)}:{team.id}"
            if not await self._hub.jobs.claim(JOB, period=period):
                continue  # another process reports this team's week
            report = await self._deliver(team, start, period, event=True)
            if report is not None:
                sent.append(report)
        return sent

    async def retry(self) -> list[WeeklyReport]:
        """Send the reports marked due (a failed post): each mark is taken by one process."""
        sent = []
        now = self._hub.clock.now()
        teams = {team.id: team for team in await self._hub.teams.list()}
        for mark in await self._hub.jobs.periods(DUE):
            if not await self._hub.jobs.release(DUE, period=mark):
                continue  # another process took it
            week, team_id, part = mark.split(":")
            start = week_start(week)
            team = teams.get(int(team_id))
            if team is None or team.archived_at is not None:
                continue
            if start < last_week(now)[0] - (RETRY_WEEKS - 1) * 7 * DAY:
                log.warning("the weekly report of team %s for %s is given up", team.name, week)
                continue
            report = await self._deliver(team, start, f"{week}:{team.id}", event=part == "all")
            if report is not None:
                sent.append(report)
        return sent

    async def _deliver(
        self, team: Team, start: datetime, period: str, *, event: bool
    ) -> WeeklyReport | None:
        """Build the week's report, send the event (`event`) and post it; what fails is marked
        due for the next run. The report when it all went out."""
        try:
            report = await self.build(team, start=start, end=start + 7 * DAY)
            if event:
                await self.emit(team, report)
        except Exception:  # noqa: BLE001 - one team's failure must not stop the others'
            log.exception("the weekly report of team %s failed", team.name)
            await self._hub.jobs.claim(DUE, period=f"{period}:{'all' if event else 'post'}")
            return None
        if not await self.post(team, report):
            log.warning("the weekly report of team %s was not posted; the next run retries",
                        team.name)  # fmt: skip
            await self._hub.jobs.claim(DUE, period=f"{period}:post")
            return None
        return report

    async def emit(self, team: Team, report: WeeklyReport) -> None:
        async with self._hub.sessions.begin() as session:
            await self._hub.events.emit(
                session, team_id=team.id, type=EVENT, data=report.event_data()
            )

    async def post(self, team: Team, report: WeeklyReport) -> bool:
        """Posted to the team's notice channel, or it has none: True; False when it failed
        (or no connector for its platform runs here)."""
        if not team.notify_platform or not team.notify_channel:
            return True
        return await self._hub.notices.post(team.id, [report.text()], what="weekly report")


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
    # Reports whose post failed (Slack or Discord down) go out within the hour it is back.
    scheduler.add_job(
        WeeklyReports(hub).retry, "interval", hours=1, id=RETRY, coalesce=True, max_instances=1
    )
