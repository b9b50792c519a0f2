"""Cost suggestions are made by a job, once across processes, and kept in the store: pages
read the stored report while it is younger than `[reports] suggestions_cache_s`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy import func, select

from hub.clock import FakeClock
from hub.scheduler import build_scheduler
from hub.store.job_tables import JobRun
from hub.store.suggestion_tables import StoredSuggestions
from hub.suggestion_reports import JOB, Kept, SuggestionStore, refresh_suggestions
from tests.support.hubs import start_hub

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


async def test_the_job_makes_and_stores_every_teams_report_once_per_period(
    database_url: str,
) -> None:
    clock = FakeClock(NOW)
    first = await start_hub({"reports": {"suggestions_cache_s": 600}},
                            database_url=database_url, clock=clock)  # fmt: skip
    second = await start_hub({"reports": {"suggestions_cache_s": 600}},
                             database_url=database_url, clock=clock, team="globex")  # fmt: skip
    try:
        teams = await first.hub.teams.list()
        assert await refresh_suggestions(first.hub) == len(teams) == 2
        assert await refresh_suggestions(second.hub) == 0  # the same period: claimed
        async with first.hub.sessions() as session:
            stored = (await session.scalars(select(StoredSuggestions))).all()
        assert sorted(row.team_id for row in stored) == sorted(t.id for t in teams)
        assert {row.computed_at for row in stored} == {NOW}
        # A page in the other process serves the stored report, not a new one.
        report = await second.hub.suggestions.for_team(first.team.id)
        assert (report.since, report.until) == second.hub.suggestions.window()
        async with first.hub.sessions() as session:
            row = await session.get(StoredSuggestions, first.team.id)
            assert row is not None and row.computed_at == NOW
        # Half the freshness later the job runs again (and forgets the period before it);
        # a report as old as suggestions_cache_s is made again on view.
        clock.advance(300)
        assert await refresh_suggestions(second.hub) == 2
        async with first.hub.sessions() as session:
            claims = await session.scalar(select(func.count()).where(JobRun.job == JOB))
        assert claims == 1
        clock.advance(600)
        await first.hub.suggestions.for_team(first.team.id)
        async with first.hub.sessions() as session:
            row = await session.get(StoredSuggestions, first.team.id)
            assert row is not None and row.computed_at == clock.now()
    finally:
        await second.hub.close()
        await first.close()


async def test_two_processes_saving_a_report_at_once_leave_one(database_url: str) -> None:
    clock = FakeClock(NOW)
    first = await start_hub({}, database_url=database_url, clock=clock)
    second = await start_hub({}, database_url=database_url, clock=clock, team="globex")
    try:
        stores = [SuggestionStore(first.hub.sessions), SuggestionStore(second.hub.sessions)]
        kept = [Kept(NOW, NOW, NOW, f'{{"from": {n}}}') for n in range(2)]
        for _ in range(5):
            await asyncio.gather(
                *(s.save(first.team.id, k) for s, k in zip(stores, kept, strict=True))
            )
        async with first.hub.sessions() as session:
            count = await session.scalar(select(func.count()).select_from(StoredSuggestions))
        assert count == 1
        assert (await stores[0].load(first.team.id)) in kept
    finally:
        await second.close()
        await first.close()


async def test_the_scheduler_makes_the_reports_at_start(sqlite_url: str) -> None:
    """Not only every half suggestions_cache_s: a page finding no stored report makes it
    itself, seconds on a big ledger, so `hub serve`'s scheduler runs the job once at start."""
    running = await start_hub({"reports": {"suggestions_cache_s": 600}},
                              database_url=sqlite_url, clock=FakeClock(NOW))  # fmt: skip
    scheduler = build_scheduler(running.hub)
    ran: asyncio.Future[JobExecutionEvent] = asyncio.get_running_loop().create_future()

    def executed(event: JobExecutionEvent) -> None:
        if event.job_id == "refresh-suggestions" and not ran.done():
            ran.set_result(event)

    scheduler.add_listener(executed, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        async with asyncio.timeout(30):  # a bound for a lost run, not a wait for time
            event = await ran
        assert event.exception is None and event.retval == 1
        async with running.hub.sessions() as session:
            row = await session.get(StoredSuggestions, running.team.id)
        assert row is not None and row.computed_at == NOW
    finally:
        scheduler.shutdown(wait=False)
        await running.close()
