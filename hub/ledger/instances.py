"""Hub processes (web, worker, discord) as instances with a lease, so that a crashed one's
holds come back in seconds rather than at the hourly sweep.

    await hub.instances.join("web")    # before serving: a row and a heartbeat task
    ...
    await hub.instances.leave()        # on stop (hub.close() does it)

Each instance writes its heartbeat every third of `[ledger] instance_lease_s`, and every
hold it takes carries its id. On each beat it also sweeps: holds of instances whose
heartbeat is older than the lease (or whose row is gone) and that are themselves older than
the lease become `interrupted` records (hub/ledger/recovery.py). On joining, an instance
does not wait out the lease of its own predecessors: a row from this host whose process no
longer exists (a hub killed and restarted) is recovered at once.

An instance that was thought dead but was only slow (a long pause, the database away) finds
its row gone at its next beat and joins again; the late settles of its recovered requests
correct their estimated records (Budget.settle).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from datetime import timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.ledger.budget import Budget
from hub.ledger.writer import Tx
from hub.store.ledger_tables import HubInstance, Reservation

log = logging.getLogger("hub.instances")
BEATS_PER_LEASE = 3


class Instances:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        budget: Budget,
        *,
        lease_s: float,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._budget = budget
        self._lease = timedelta(seconds=lease_s)
        self._beat_every_s = lease_s / BEATS_PER_LEASE
        self.id: str | None = None
        self.kind = ""
        self._host = socket.gethostname()[:255]
        self._task: asyncio.Task[None] | None = None

    async def join(self, kind: str) -> None:
        """Register this process, recover its dead predecessors' holds, and keep the lease
        (a background task) until `leave`."""
        if self.id is not None:
            return
        self.kind = kind
        self.id = f"{kind}-{self._host[:30]}-{os.getpid()}-{secrets.token_hex(4)}"
        await self._register()
        self._budget.instance_id = self.id
        dead = await self._dead_predecessors()
        recovered = await self.sweep(dead=dead)
        if recovered:
            log.warning("recovered %d request(s) of stopped hub processes", recovered)
        self._task = asyncio.create_task(self._keep_lease(), name=f"lease {self.id}")

    async def leave(self, *, recover: bool = True) -> None:
        """Stop the heartbeat and give up the row (requests have settled by now, or have
        their settlements journaled: then `recover` is False and their holds stay)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.id is None:
            return
        own, self.id = self.id, None
        self._budget.instance_id = None
        try:
            if recover:  # anything still held (work that never ended), like a crash's
                await self._budget.recover(Reservation.instance_id == own)
            async with self._sessions.begin() as session:
                await session.execute(delete(HubInstance).where(HubInstance.id == own))
        except Exception:  # noqa: BLE001 - the lease lapses and another instance recovers
            log.warning("could not leave cleanly; the lease will lapse", exc_info=True)

    async def is_live(self, instance_id: str) -> bool:
        """True while that instance's heartbeat is within the lease."""
        cutoff = self._clock.now() - self._lease
        async with self._sessions() as session:
            found = await session.scalar(
                select(HubInstance.id).where(
                    HubInstance.id == instance_id, HubInstance.heartbeat_at >= cutoff
                )
            )
        return found is not None

    async def beat(self) -> None:
        """Renew the lease; join again if another instance already gave this one up."""
        if self.id is None:
            return
        statement = (
            update(HubInstance)
            .where(HubInstance.id == self.id)
            .values(heartbeat_at=self._clock.now())
        )

        def renew(tx: Tx) -> int:
            return int(tx.conn.execute(statement).rowcount)

        # In a ledger batch (SQLite: on the writer's connection, not a second one taking the
        # write lock that chat's batches would then wait for).
        if await self._budget.writer.run(renew) == 0:
            log.warning("instance %s had lost its lease; joining again", self.id)
            await self._register()

    async def sweep(self, *, dead: tuple[str, ...] = ()) -> int:
        """Recover the holds of instances whose lease lapsed (and of `dead`, known dead);
        how many requests became `interrupted`."""
        now = self._clock.now()
        cutoff = now - self._lease
        live = select(HubInstance.id).where(HubInstance.heartbeat_at >= cutoff)
        lapsed = and_(
            Reservation.instance_id.is_not(None),
            Reservation.instance_id.not_in(live),
            Reservation.created_at < cutoff,  # not one taken while its instance re-joins
        )
        which = or_(lapsed, Reservation.instance_id.in_(dead)) if dead else lapsed
        if self.id is not None:
            which = and_(which, Reservation.instance_id != self.id)
        recovered = await self._budget.recover(which)
        gone = or_(HubInstance.heartbeat_at < cutoff, HubInstance.id.in_(dead))
        statement = delete(HubInstance).where(gone, HubInstance.id != self.id)

        def forget(tx: Tx) -> None:
            tx.conn.execute(statement)

        await self._budget.writer.run(forget)
        return recovered

    async def _keep_lease(self) -> None:
        while True:
            # Real time, not the hub clock: the lease is about this process being alive.
            await asyncio.sleep(self._beat_every_s)
            try:
                await self.beat()
                await self.sweep()
            except Exception:  # noqa: BLE001 - the database may be away; keep trying
                log.warning("instance heartbeat failed", exc_info=True)

    async def _register(self) -> None:
        assert self.id is not None
        now = self._clock.now()
        async with self._sessions.begin() as session:
            session.add(
                HubInstance(
                    id=self.id,
                    kind=self.kind,
                    host=self._host,
                    pid=os.getpid(),
                    started_at=now,
                    heartbeat_at=now,
                )
            )

    async def _dead_predecessors(self) -> tuple[str, ...]:
        """Instances of this host whose process no longer exists."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(HubInstance.id, HubInstance.pid).where(
                        HubInstance.host == self._host, HubInstance.id != self.id
                    )
                )
            ).all()
        return tuple(i for i, pid in rows if not _alive(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
