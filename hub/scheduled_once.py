"""Run a scheduled job once across processes: every process's scheduler fires, one claims.

    if await hub.jobs.claim("invoice-generate", period="2026-12"):
        await generate_invoices(...)

The claim is a row insert under a unique (job, period) constraint, so two processes firing
at the same instant cannot both win, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import os
import socket

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.store.job_tables import JobRun


def process_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class ScheduledOnce:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        claimant: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._claimant = claimant or process_label()

    async def claim(self, job: str, *, period: str) -> bool:
        """True for the one process that gets to run `job` for `period`; False for the rest."""
        try:
            async with self._sessions.begin() as session:
                await session.execute(
                    insert(JobRun).values(
                        job=job,
                        period=period,
                        claimed_by=self._claimant,
                        claimed_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            return False
        return True

    async def release(self, job: str, *, period: str) -> bool:
        """Remove the claim of `job` for `period`: True for the one process whose delete took
        it (so a claim used as a to-do mark is taken by one process only)."""
        async with self._sessions.begin() as session:
            done = await session.execute(
                delete(JobRun).where(JobRun.job == job, JobRun.period == period)
            )
        return bool(getattr(done, "rowcount", 0))

    async def periods(self, job: str) -> list[str]:
        """The periods `job` is claimed for, oldest claim first."""
        async with self._sessions() as session:
            found = await session.scalars(
                select(JobRun.period).where(JobRun.job == job).order_by(JobRun.id)
            )
            return list(found)
