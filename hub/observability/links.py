"""Long-lived platform connections (Slack Socket Mode, the Discord gateway), as the processes
holding them report them, for /metrics and for `connection_lost` alerts in any process.

A connector that holds such a connection asks the hub to watch it:

    hub.links.watch("discord", probe)     # probe() -> (connected, heartbeat latency or None)
    hub.links.unwatch("discord")          # on stop: reported as disconnected

Every `EVERY_S` seconds the probe's answer is written to `platform_links`. A row not
refreshed for `STALE_S` seconds counts as disconnected since it was last seen (the process
died, or cannot reach the database).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.store.observability_tables import PlatformLink

log = logging.getLogger("hub.links")
EVERY_S = 10.0
STALE_S = 60.0
Probe = Callable[[], Awaitable[tuple[bool, float | None]]]


@dataclass(frozen=True, slots=True)
class LinkState:
    platform: str
    connected: bool
    latency_s: float | None
    lost_since: datetime | None  # when the platform was last known connected, if it is not


@dataclass(slots=True)
class _Watch:
    task: asyncio.Task[None] | None = None
    stopped: bool = False
    sleeping: bool = False  # cancelled only while asleep: never in the middle of a write


class Links:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, *, instance: str
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._instance = instance
        self._watches: dict[str, _Watch] = {}

    def watch(self, platform: str, probe: Probe) -> None:
        self._stop(platform)
        watch = self._watches[platform] = _Watch()
        watch.task = asyncio.create_task(self._loop(watch, platform, probe))

    async def unwatch(self, platform: str) -> None:
        watch = self._stop(platform)
        if watch is not None and watch.task is not None:
            await asyncio.gather(watch.task, return_exceptions=True)
        try:
            await self.report(platform, connected=False, latency_s=None)
        except Exception:  # noqa: BLE001 - stopping must not fail on a report
            log.warning("could not report %s as disconnected", platform, exc_info=True)

    def _stop(self, platform: str) -> _Watch | None:
        watch = self._watches.pop(platform, None)
        if watch is not None:
            watch.stopped = True
            if watch.sleeping and watch.task is not None:
                watch.task.cancel()
        return watch

    async def close(self) -> None:
        for platform in list(self._watches):
            await self.unwatch(platform)

    async def _loop(self, watch: _Watch, platform: str, probe: Probe) -> None:
        while not watch.stopped:
            try:
                connected, latency = await probe()
                await self.report(platform, connected=connected, latency_s=latency)
            except Exception:  # noqa: BLE001 - the watch goes on; the row goes stale meanwhile
                log.warning("reporting the %s connection failed", platform, exc_info=True)
            if watch.stopped:
                return
            watch.sleeping = True
            try:
                await self._clock.sleep(EVERY_S)
            finally:
                watch.sleeping = False

    async def report(self, platform: str, *, connected: bool, latency_s: float | None) -> None:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(PlatformLink).where(
                    PlatformLink.platform == platform, PlatformLink.instance == self._instance
                )
            )
            if row is None:
                session.add(
                    PlatformLink(
                        platform=platform,
                        instance=self._instance,
                        connected=connected,
                        latency_s=latency_s,
                        since=now,
                        seen_at=now,
                    )
                )
                return
            if row.connected != connected:
                row.connected, row.since = connected, now
            row.latency_s, row.seen_at = latency_s, now


async def link_states(session: AsyncSession, *, now: datetime) -> list[LinkState]:
    rows = list(await session.scalars(select(PlatformLink)))
    stale = now - timedelta(seconds=STALE_S)
    states = []
    for platform in sorted({r.platform for r in rows}):
        mine = [r for r in rows if r.platform == platform]
        live = [r for r in mine if r.connected and r.seen_at >= stale]
        if live:
            latencies = [r.latency_s for r in live if r.latency_s is not None]
            states.append(LinkState(platform, True, max(latencies, default=None), None))
            continue
        # Down everywhere: since the latest moment any process still had it.
        last_up = max(r.seen_at if r.connected else r.since for r in mine)
        states.append(LinkState(platform, False, None, last_up))
    return states
