"""API keys authenticated from memory: the row behind a secret's hash, kept for a few seconds.

A hit still checks everything time- and client-dependent (revoked, expired, rotated grace,
allowed networks) on the cached row, so only a change to the row itself can be stale, and
every change the hub makes (revoke, rotate, update, a member removed) drops the entry at once
in this process and, through `hub.signals`, in every process sharing Redis. Pub/sub is best
effort, so the TTL is what bounds staleness when a message is lost (a process that was
reconnecting to Redis); a lost subscription also clears the whole cache (`on_reconnect`).

Unknown secrets are never cached: a flood of wrong keys cannot fill memory.

`last_used_at` is noted here and written in batches off the request path (`KeyUsage`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.model import Caller
from hub.store.ledger_tables import ApiKey

log = logging.getLogger("hub.keys")
CHANNEL = "keys"  # hub.signals channel: "<key id>" or "*" for every key
MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class CachedKey:
    """A key row as authentication reads it: plain fields copied once when it is cached, so
    a hit reads no ORM-instrumented attribute and builds no Caller (15 -> 7 µs a hit)."""

    row: ApiKey  # detached; never modified after it is cached
    caller: Caller
    until: float  # clock.monotonic() after which the row is read again
    id: int
    prefix: str
    secret_hash: str
    revoked_at: datetime | None
    expires_at: datetime | None
    previous_valid_until: datetime | None
    ip_allowlist: str | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey, team_name: str, *, until: float) -> CachedKey:
        return cls(
            row=row,
            caller=Caller(
                team_id=row.team_id, team_name=team_name, key_id=row.id, member_id=row.member_id
            ),
            until=until,
            id=row.id,
            prefix=row.prefix,
            secret_hash=row.secret_hash,
            revoked_at=row.revoked_at,
            expires_at=row.expires_at,
            previous_valid_until=row.previous_valid_until,
            ip_allowlist=row.ip_allowlist,
            last_used_at=row.last_used_at,
        )


class KeyCache:
    """Key rows by secret hash, with a TTL, bounded (least recently used goes first)."""

    def __init__(self, clock: Clock, *, ttl_s: float, max_entries: int = MAX_ENTRIES) -> None:
        self._clock = clock
        self._ttl = ttl_s
        self._max = max_entries
        self._entries: OrderedDict[str, CachedKey] = OrderedDict()
        # Bumped by every invalidation: a read that started before one must not be stored,
        # or a row fetched just before a revoke would be cached after the revoke's message.
        self.generation = 0

    def get(self, digest: str) -> CachedKey | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry.until <= self._clock.monotonic():
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return entry

    def put(self, digest: str, row: ApiKey, team_name: str, *, generation: int) -> CachedKey:
        """The row as cached (kept only when no invalidation came since `generation`)."""
        entry = CachedKey.of(row, team_name, until=self._clock.monotonic() + self._ttl)
        if self._ttl <= 0 or generation != self.generation:
            return entry
        self._entries[digest] = entry
        self._entries.move_to_end(digest)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return entry

    def forget(self, key_id: int | None = None) -> None:
        """Drop one key's entries (both hashes of a rotating key), or all with None."""
        self.generation += 1
        if key_id is None:
            self._entries.clear()
            return
        for digest in [d for d, e in self._entries.items() if e.id == key_id]:
            del self._entries[digest]

    async def on_signal(self, message: str) -> None:
        if message == "*":
            self.forget()
            return
        try:
            key_id = int(message)
        except ValueError:
            log.warning("ignored a malformed key invalidation: %r", message[:40])
            return
        self.forget(key_id)

    async def on_reconnect(self) -> None:
        self.forget()

    def __len__(self) -> int:
        return len(self._entries)


class KeyUsage:
    """`last_used_at` per key, noted in memory and written at most every `interval_s` in one
    transaction (one statement for all keys used meanwhile), never on the request path."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, *, interval_s: float
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._interval = interval_s
        self._pending: dict[int, datetime] = {}
        self._written: dict[int, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    def note(self, key_id: int, last_used_at: datetime | None, now: datetime) -> None:
        last = self._written.get(key_id) or last_used_at
        if last is not None and (now - last).total_seconds() < self._interval:
            return  # as before: at most one write a minute per key
        self._pending[key_id] = now
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._later())

    async def _later(self) -> None:
        # Real time, not the hub clock: a fake clock's sleep would move the tests' time.
        await asyncio.sleep(self._interval)
        await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            async with self._sessions.begin() as session:
                await session.execute(  # ORM bulk UPDATE by primary key: one executemany
                    update(ApiKey), [{"id": k, "last_used_at": t} for k, t in pending.items()]
                )
        except Exception as exc:  # noqa: BLE001 - bookkeeping: try again with the next batch
            log.warning("could not record when %d keys were last used: %s", len(pending), exc)
            for key_id, used in pending.items():
                self._pending.setdefault(key_id, used)
            return
        self._written.update(pending)

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()
