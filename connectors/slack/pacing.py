"""At most one edit a second per message: the newest text is sent when its turn comes.

The reader of the model's stream never waits on Slack; it offers the latest text and moves
on. A separate task sends whatever is newest once the interval has passed, on the hub clock
(so a FakeClock makes the pacing instant and observable in tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError

from connectors.slack.client import api_error
from hub.clock import Clock

log = logging.getLogger("connectors.slack.pacing")
Send = Callable[[str, bool], Awaitable[None]]  # (full text, final)
INTERVAL_S = 1.0


class Pacer:
    def __init__(self, clock: Clock, send: Send, *, interval: float = INTERVAL_S) -> None:
        self._clock = clock
        self._send = send
        self._interval = interval
        self._last: float | None = None
        self._latest = ""
        self._sent = ""
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def mark(self) -> None:
        """Count a send made outside the pacer (the placeholder) against the interval."""
        self._last = self._clock.monotonic()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="slack-pacer")

    def offer(self, text: str) -> None:
        self._latest = text
        self._wake.set()

    async def _turn(self) -> None:
        if self._last is not None:
            delay = self._last + self._interval - self._clock.monotonic()
            if delay > 0:
                await self._clock.sleep(delay)
        self._last = self._clock.monotonic()

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._closing:
                return
            await self._turn()
            text = self._latest
            if text == self._sent:
                continue
            try:
                await self._send(text, False)
                self._sent = text
            except SlackApiError as exc:
                # A failed live edit is not fatal: the final send carries the whole text.
                log.warning("slack live update failed: %s", api_error(exc))
            except Exception:  # noqa: BLE001 - same reason: network trouble on one live edit
                log.warning("slack live update failed", exc_info=True)

    async def _stop_loop(self) -> None:
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def finish(self, text: str) -> None:
        """Send the final text once, after any live send in flight."""
        await self._stop_loop()
        await self._turn()
        await self._send(text, True)

    async def abort(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
