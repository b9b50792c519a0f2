"""One answer per webhook-id: the first delivery runs, repeats get its stored result.

The claim lives in the database (`hub.deliveries`), so repeats are caught across processes.
A repeat that arrives while the first is still running waits for it: on an in-process event
when the first runs here, else by polling the claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

from hub.idempotency import Deliveries

CONNECTOR = "webhooks"
POLL_S = 0.2


@dataclass(frozen=True, slots=True)
class Stored:
    status: int
    body: Any


class StillRunning:
    """The first delivery had not finished within the wait bound."""


STILL_RUNNING = StillRunning()


class Dedupe:
    def __init__(self, deliveries: Deliveries, *, wait_s: float) -> None:
        self._deliveries = deliveries
        self._wait_s = wait_s
        self._local: dict[str, asyncio.Event] = {}
        self.waiting = 0  # repeats currently waiting (tests watch this)
        self.waiter_arrived = asyncio.Event()

    async def claim(self, key: str) -> bool:
        if not await self._deliveries.claim(CONNECTOR, key):
            return False
        self._local[key] = asyncio.Event()
        return True

    async def finish(self, key: str, status: int, body: Any) -> None:
        response = json.dumps({"status": status, "body": body}, separators=(",", ":"))
        await self._deliveries.complete(CONNECTOR, key, response)
        self._wake(key)

    async def abandon(self, key: str) -> None:
        """The first attempt failed before answering: a retry may run it again."""
        await self._deliveries.release(CONNECTOR, key)
        self._wake(key)

    async def outcome(self, key: str) -> Stored | StillRunning | None:
        """The first delivery's stored answer; None if it was abandoned."""
        loop = asyncio.get_running_loop()
        # Waiting on another request is bounded in real time: no clock of ours moves it.
        deadline = loop.time() + self._wait_s
        self.waiting += 1
        self.waiter_arrived.set()
        try:
            while True:
                state = await self._deliveries.get(CONNECTOR, key)
                if state is None:
                    return None
                if state.status == "done" and state.response:
                    stored = json.loads(state.response)
                    return Stored(int(stored["status"]), stored["body"])
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return STILL_RUNNING
                event = self._local.get(key)
                if event is None:
                    await asyncio.sleep(min(remaining, POLL_S))
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout=remaining)
        finally:
            self.waiting -= 1

    def _wake(self, key: str) -> None:
        event = self._local.pop(key, None)
        if event is not None:
            event.set()
