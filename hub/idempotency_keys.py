"""`Idempotency-Key` (the Stripe convention): a client's retry of a call gets the first
call's answer, not a second call and a second charge.

    begun = await hub.idempotency.begin("openai_api", team_id, key, fingerprint)
    if isinstance(begun, Replay):       # answered before: send begun.answer as it was
        ...
    # else a Claim: run the request, then
    await claim.finish(answer)          # remembered for 24 h, per team
    await claim.abandon()               # it failed: a retry may run it again

Built on the deliveries table (`hub.deliveries`): one row per (connector, team, key), so the
first of two racing requests wins in the database, across processes. The row holds the
fingerprint of the body that claimed it (the same key with another body is refused, 422) and,
once done, the answer. A repeat that arrives while the first is running waits for it (on an
in-process event when the first runs here, else by polling the row) up to a bound, then gets
409 with Retry-After.

Only answers are remembered: a request that failed (an upstream error, a quota, the client
gone) is abandoned, so retrying it runs it again, which is what a client retrying after a
503 wants. A claim whose process died is free again once that process's lease lapsed
(hub/ledger/instances.py), or after `ABANDONED_AFTER` for a process without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.errors import HubError, InvalidField
from hub.idempotency import Deliveries
from hub.store.platform_tables import Delivery
from hub.uncancelled import outlast

log = logging.getLogger("hub.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
REMEMBERED_FOR = timedelta(hours=24)
# A pending claim this old belongs to a process that died mid-request: the key is free again.
ABANDONED_AFTER = timedelta(minutes=15)
MAX_KEY_LENGTH = 255  # Stripe's limit
POLL_S = 0.2
RETRY_AFTER_S = 2


class IdempotencyKeyReused(HubError):
    """The key was first used with another request body (422)."""

    status = 422
    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__(
            f"This {HEADER} was already used with a different request body; send a new key "
            "for a new request, or the same body to get the first answer again."
        )
        self.param = self.field = HEADER


class IdempotencyKeyInUse(HubError):
    """The first request with this key is still running (409, Retry-After)."""

    status = 409
    code = "idempotency_key_in_use"

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            f"A request with this {HEADER} is still being answered; retry in a few seconds "
            "to get its answer."
        )
        self.retry_after = retry_after
        self.param = self.field = HEADER


# How the connectors that take the header describe it in /openapi.json.
OPENAPI_PARAMETER: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": "A key of the client's choosing (a UUID) that makes a retry safe: the "
    "first request with it (per team, for 24 h) is answered and its answer remembered; a "
    "repeat with the same body gets that answer again with `Idempotent-Replayed: true`, "
    "without a provider call or a charge. Another body with the same key is refused (422); "
    "a repeat while the first still runs waits for it, or gets 409 with Retry-After. A "
    "request that failed is not remembered: retrying it runs it again.",
}


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """What a repeat is answered with: the first answer's status, headers and body (any
    JSON: a completion, or the chunk objects of a streamed one)."""

    status: int
    body: Any
    headers: dict[str, str]

    def json(self) -> dict[str, Any]:
        return {"status": self.status, "body": self.body, "headers": self.headers}


@dataclass(frozen=True, slots=True)
class Replay:
    answer: StoredAnswer


def check_key(value: str) -> str:
    """The header's value, or a 400 naming the header."""
    key = value.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidField(
            HEADER, f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters (a UUID)."
        )
    return key


def fingerprint(*parts: Any) -> str:
    """A digest of what the request asks (path, body): key order and spacing do not count."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


class IdempotencyKeys:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        deliveries: Deliveries,
        clock: Clock,
        *,
        wait_s: float,
        instance: Callable[[], str | None] = lambda: None,
        live: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._deliveries = deliveries
        # Which process holds a claim, and whether it still does (its lease).
        self._instance = instance
        self._live = live or _always_live
        self._clock = clock
        self._wait_s = wait_s
        self._running: dict[tuple[str, str], asyncio.Event] = {}  # claims held here
        self.waiting = 0  # repeats waiting for a first request now (tests watch this)

    async def begin(self, connector: str, team_id: int, key: str, print_: str) -> Claim | Replay:
        """Claim the key for this request, or the first request's answer. Raises
        `IdempotencyKeyReused` (another body) or `IdempotencyKeyInUse` (still running after
        the wait bound)."""
        scope = _scope(connector)
        external_id = f"{team_id}:{hashlib.sha256(key.encode()).hexdigest()}"
        loop = asyncio.get_running_loop()
        # Waiting on another request is bounded in real time: no clock of ours moves it.
        deadline = loop.time() + self._wait_s
        while True:
            claimed = await self._deliveries.claim(
                scope,
                external_id,
                note=json.dumps({"fingerprint": print_, "instance": self._instance()}),
            )
            if claimed:
                self._running[(scope, external_id)] = asyncio.Event()
                return Claim(self, scope, external_id, print_)
            row = await self._row(scope, external_id)
            if row is None or await self._forgotten(row):
                continue  # abandoned meanwhile, or cleared as expired: claim again
            stored = json.loads(row.response or "{}")
            if stored.get("fingerprint") != print_:
                raise IdempotencyKeyReused
            if row.status == "done":
                return Replay(_answer(stored["answer"]))
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise IdempotencyKeyInUse(RETRY_AFTER_S)
            await self._wait(scope, external_id, remaining)

    async def _row(self, scope: str, external_id: str) -> Delivery | None:
        async with self._sessions() as session:
            row: Delivery | None = await session.scalar(
                select(Delivery).where(
                    Delivery.connector == scope, Delivery.external_id == external_id
                )
            )
            return row

    async def _owner_gone(self, row: Delivery) -> bool:
        owner = json.loads(row.response or "{}").get("instance")
        return isinstance(owner, str) and owner != self._instance() and not await self._live(owner)

    async def _forgotten(self, row: Delivery) -> bool:
        """True once a row no longer counts (older than 24 h, or a dead process's pending
        claim); it is removed, so that the caller can claim the key anew."""
        now = self._clock.now()
        expired = row.created_at < now - REMEMBERED_FOR
        dead = row.status == "pending" and (
            row.updated_at < now - ABANDONED_AFTER or await self._owner_gone(row)
        )
        if not (expired or dead):
            return False
        async with self._sessions.begin() as session:
            # Only the row as it was read: a claim made meanwhile by another request stays.
            await session.execute(
                delete(Delivery).where(Delivery.id == row.id, Delivery.updated_at == row.updated_at)
            )
        return True

    async def _wait(self, scope: str, external_id: str, remaining: float) -> None:
        self.waiting += 1
        try:
            event = self._running.get((scope, external_id))
            if event is None:  # the first runs in another process: poll its row
                await asyncio.sleep(min(remaining, POLL_S))
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=remaining)
        finally:
            self.waiting -= 1

    async def _finish(
        self, scope: str, external_id: str, print_: str, answer: StoredAnswer
    ) -> None:
        response = json.dumps({"fingerprint": print_, "answer": answer.json()}, ensure_ascii=False)
        try:
            await self._deliveries.complete(scope, external_id, response)
        finally:
            self._wake(scope, external_id)

    async def _abandon(self, scope: str, external_id: str) -> None:
        try:
            async with self._sessions.begin() as session:
                await session.execute(
                    delete(Delivery).where(
                        Delivery.connector == scope,
                        Delivery.external_id == external_id,
                        Delivery.status == "pending",
                    )
                )
        finally:
            self._wake(scope, external_id)

    def _wake(self, scope: str, external_id: str) -> None:
        event = self._running.pop((scope, external_id), None)
        if event is not None:
            event.set()


class Claim:
    """This request holds the key: `finish` with its answer, or `abandon` it."""

    def __init__(self, keys: IdempotencyKeys, scope: str, external_id: str, print_: str) -> None:
        self._keys = keys
        self._scope = scope
        self._external_id = external_id
        self._print = print_
        self._settled = False

    async def finish(self, answer: StoredAnswer) -> None:
        """Remember the answer (even if the caller is cancelled meanwhile). A store that
        fails does not fail the request, whose answer is ready: the key is freed instead."""
        if self._settled:
            return
        self._settled = True
        try:
            await _uncancelled(
                self._keys._finish(self._scope, self._external_id, self._print, answer)
            )
        except Exception:  # noqa: BLE001 - the client still gets its answer
            log.warning("could not remember the answer to an %s", HEADER, exc_info=True)
            await self._quietly_abandon()

    async def abandon(self) -> None:
        """The request failed: free the key, so that a retry runs it again."""
        if not self._settled:
            self._settled = True
            await self._quietly_abandon()

    async def _quietly_abandon(self) -> None:
        try:
            await _uncancelled(self._keys._abandon(self._scope, self._external_id))
        except Exception:  # noqa: BLE001 - the pending claim lapses after ABANDONED_AFTER
            log.warning("could not free an %s", HEADER, exc_info=True)


async def _uncancelled(work: Coroutine[Any, Any, None]) -> None:
    running = asyncio.ensure_future(work)
    cancelled = await outlast(running)
    running.result()
    if cancelled:
        raise asyncio.CancelledError


async def _always_live(instance_id: str) -> bool:
    return True


def _scope(connector: str) -> str:
    return f"idem:{connector}"[:30]  # deliveries.connector is 30 characters


def _answer(stored: dict[str, Any]) -> StoredAnswer:
    return StoredAnswer(int(stored["status"]), stored["body"], dict(stored.get("headers") or {}))
