"""Cost suggestions kept per team in the store (`suggestion_reports`), refreshed by a job.

Making a team's suggestions reads a month of its prompt hashes (seconds at a million usage
records), so pages and the weekly report do not make them: `refresh_suggestions` does, when
`hub serve` starts and every half `[reports] suggestions_cache_s`, once across processes
(hub/scheduled_once.py), for every team, and hub/suggestions.py serves the stored report
while it is younger than `suggestions_cache_s` (it makes one only for a team the job has not
reached yet, and stores it for every process). Nothing is added to the per-request path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.engine import dialect_name
from hub.store.suggestion_tables import StoredSuggestions

if TYPE_CHECKING:
    from hub.service import Hub

JOB = "suggestions-refresh"


@dataclass(frozen=True, slots=True)
class Kept:
    since: datetime
    until: datetime
    computed_at: datetime
    body: str  # JSON (hub/suggestions.py encodes it)


class SuggestionStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def load(self, team_id: int) -> Kept | None:
        async with self._sessions() as session:
            row = await session.get(StoredSuggestions, team_id)
            return None if row is None else Kept(row.since, row.until, row.computed_at, row.body)

    async def save(self, team_id: int, kept: Kept) -> None:
        """Replace the team's stored report: one upsert, so two processes saving at once (the
        job and a page making a missing report) leave one of two equally fresh reports."""
        values = dict(since=kept.since, until=kept.until, computed_at=kept.computed_at,
                      body=kept.body)  # fmt: skip
        async with self._sessions.begin() as session:
            insert = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
            await session.execute(
                insert(StoredSuggestions)
                .values(team_id=team_id, **values)
                .on_conflict_do_update(index_elements=["team_id"], set_=values)
            )


def refresh_period(at: datetime, every_s: int) -> str:
    """The job's period: runs within one `every_s` claim the same one."""
    return str(int(at.timestamp()) // every_s)


async def refresh_suggestions(hub: Hub) -> int:
    """Every team's suggestions made and stored, by the one process that claims this period;
    how many teams it made them for (0 in the others)."""
    every_s = max(1, hub.settings.reports.suggestions_cache_s // 2)
    period = refresh_period(hub.clock.now(), every_s)
    if not await hub.jobs.claim(JOB, period=period):
        return 0
    teams = await hub.teams.list()
    for team in teams:
        await hub.suggestions.refresh(team.id)
    # The period before is over: its claim is not needed to keep it once (job_runs stays small).
    await hub.jobs.release(JOB, period=str(int(period) - 1))
    return len(teams)
