"""Settlement that survives the database: a request's answer never waits long on, nor fails
because of, its bookkeeping.

    settlement = await hub.settlements.settle(hold, entry)   # None: it will be, later

A settle that fails (the database down, locked, a constraint) is retried with backoff. Once
an attempt failed, or none went through within `[ledger] settle_wait_s` (a database that
hangs, a lock held), it is appended to the local journal
(hub/ledger/journal.py, fsync'd) and the request goes on; the retries continue in the
background, and the journal notes when the database took it. On stop, what is still pending
stays in the journal; every start replays the journals of processes that are gone before
serving (`replay`). Settling is idempotent by request id (`Budget.settle`), so a settlement
that reached the database just before its process died is not booked twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from pathlib import Path

from hub.ledger.budget import Budget, Hold, Settlement
from hub.ledger.journal import Journal, Pending, remove
from hub.ledger.usage_entry import UsageEntry
from hub.uncancelled import within

log = logging.getLogger("hub.ledger")
BACKOFF_BASE_S = 0.1
BACKOFF_MAX_S = 5.0


class Settlements:
    def __init__(self, budget: Budget, state_dir: Path, *, wait_s: float) -> None:
        self._budget = budget
        self._wait_s = wait_s
        self._journal = Journal(state_dir)
        self._late: dict[str, asyncio.Task[None]] = {}  # journaled, still being retried
        self._orphans: set[asyncio.Future[Settlement]] = set()  # retries of a caller gone

    @property
    def pending(self) -> int:
        """Settlements journaled and not yet in the database."""
        return len(self._late)

    async def caught_up(self) -> None:
        """Until every journaled settlement is in the database (their retries are in real
        time, with backoff: bound the wait)."""
        while self._late:
            await asyncio.wait(list(self._late.values()))

    def queue(self, hold: Hold, entry: UsageEntry) -> asyncio.Future[Settlement]:
        """The first attempt, begun now (`settle` waits for it): the ledger writer's own
        future (no task of its own) when the team's wanted events are in memory, as nearly
        always; else a task that reads them."""
        attempt = self._budget.settle_queued(hold, entry)
        if attempt is None:
            attempt = asyncio.ensure_future(self._budget.settle(hold, entry))
        return attempt

    async def settle(
        self, hold: Hold, entry: UsageEntry, attempt: asyncio.Future[Settlement] | None = None
    ) -> Settlement | None:
        """Settle now if the database lets us: else (an attempt failed, or none succeeded
        within `settle_wait_s`) journal it and keep trying in the background (None).
        `attempt`: the first, as `queue` began it (by default, begun here)."""
        if attempt is None:
            attempt = self.queue(hold, entry)
        if not attempt.done():
            try:
                if self._budget.writer.inline:
                    # The batch's callback was scheduled before this task yields, so it runs
                    # first: with the write lock free the settlement has committed when the
                    # task resumes, without a bounded wait's timer, waiter and callbacks
                    # (12 µs a request).
                    await asyncio.sleep(0)
                await within(attempt, self._wait_s)
            except asyncio.CancelledError:
                # The caller went away: the attempt goes on, and so do its retries.
                retrying = asyncio.ensure_future(self._retried(attempt, hold, entry))
                self._orphans.add(retrying)
                retrying.add_done_callback(self._orphans.discard)
                raise
        if attempt.done() and not attempt.cancelled() and attempt.exception() is None:
            return attempt.result()
        trying = asyncio.ensure_future(self._retried(attempt, hold, entry))
        pending = Pending(hold, entry)
        await asyncio.to_thread(self._journal.append, pending)
        log.warning(
            "request %s answered; its settlement is journaled until the database takes it",
            entry.request_id,
        )
        self._late[entry.request_id] = asyncio.create_task(self._finish_late(pending, trying))
        return None

    async def replay(self) -> int:
        """Before serving: the settlements that processes now gone left in their journals,
        into the database (or taken over by this process's journal when it is away yet);
        how many were settled."""
        settled = 0
        for path, pendings in self._journal.orphans():
            for pending in pendings:
                try:
                    await self._budget.settle(pending.hold, pending.entry)
                    settled += 1
                except Exception:  # noqa: BLE001 - keep it: ours now, retried in the background
                    log.warning("replaying %s failed; retrying", pending.request_id, exc_info=True)
                    await asyncio.to_thread(self._journal.append, pending)
                    trying = asyncio.ensure_future(
                        self._until_settled(pending.hold, pending.entry, failed_once=True)
                    )
                    self._late[pending.request_id] = asyncio.create_task(
                        self._finish_late(pending, trying)
                    )
            remove(path)
        if settled:
            log.warning("replayed %d journaled settlement(s)", settled)
        return settled

    async def close(self) -> None:
        """Stop retrying: what is still pending stays journaled for the next start."""
        late = list(self._late.values())
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._journal.close(empty=not self._late)

    async def _retried(
        self, attempt: asyncio.Future[Settlement], hold: Hold, entry: UsageEntry
    ) -> Settlement:
        """The first attempt's outcome, or retries after it failed."""
        try:
            return await attempt
        except Exception:  # noqa: BLE001 - down, locked, a constraint: all worth a retry
            log.warning("settling %s failed; retrying", entry.request_id, exc_info=True)
        return await self._until_settled(hold, entry, failed_once=True)

    async def _until_settled(
        self, hold: Hold, entry: UsageEntry, *, failed_once: bool = False
    ) -> Settlement:
        delay = BACKOFF_BASE_S
        while True:
            if failed_once:
                # Real time, with full jitter: the database comes back in its own time.
                await asyncio.sleep(random.uniform(0, delay))  # noqa: S311 - not a secret
                delay = min(delay * 2, BACKOFF_MAX_S)
            try:
                return await self._budget.settle(hold, entry)
            except Exception:  # noqa: BLE001 - down, locked, a constraint: all worth a retry
                log.warning("settling %s failed; retrying", entry.request_id, exc_info=True)
            failed_once = True

    async def _finish_late(self, pending: Pending, trying: asyncio.Future[Settlement]) -> None:
        try:
            await trying
        except asyncio.CancelledError:
            trying.cancel()
            raise
        del self._late[pending.request_id]
        await asyncio.to_thread(self._journal.done, pending.request_id)
        log.info("journaled settlement of %s is now in the database", pending.request_id)
