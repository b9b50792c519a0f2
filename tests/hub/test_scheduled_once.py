"""A scheduled job fires in every process; exactly one claims each period."""

from __future__ import annotations

import asyncio

from hub.clock import FakeClock
from hub.scheduled_once import ScheduledOnce
from hub.store.engine import create_engine, session_factory
from hub.store.migrate import upgrade


async def test_one_claim_per_job_and_period_among_concurrent_processes(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        clock = FakeClock()
        processes = [ScheduledOnce(sessions, clock, claimant=f"web-{i}") for i in range(8)]
        wins = await asyncio.gather(*(p.claim("invoice", period="2026-11") for p in processes))
        assert sorted(wins) == [False] * 7 + [True]
        assert await processes[0].claim("invoice", period="2026-12") is True
        assert await processes[1].claim("weekly-report", period="2026-11") is True
        assert await processes[2].claim("invoice", period="2026-12") is False
    finally:
        await engine.dispose()
