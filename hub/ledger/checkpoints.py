"""A running stream's progress, noted on its hold every few seconds (never per chunk), so that
if its process dies the `interrupted` record counts the completion tokens it had streamed.

A request shorter than `EVERY_S` writes no checkpoint at all: the hot path pays nothing. The
write runs in the background (one at a time; the hub waits for it on close) and never holds
the stream up; one that fails only leaves an older checkpoint.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from hub.clock import Clock
from hub.ledger.budget import Budget, Hold

log = logging.getLogger("hub.ledger")
EVERY_S = 2.0


def tokens_seen(chars: int) -> int:
    """Completion tokens for text the hub saw but the provider did not count (the same
    generous rule settle uses for a stream cut short)."""
    return chars // 4 + (1 if chars else 0)


class Checkpoints:
    def __init__(
        self,
        budget: Budget,
        clock: Clock,
        track: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]],
    ) -> None:
        self._budget = budget
        self._clock = clock
        self._track = track
        self._last = clock.monotonic()
        self._writing: asyncio.Task[Any] | None = None

    def due(self) -> bool:
        """Whether `saw` would write now (asked per chunk first: its arguments cost more)."""
        return self._clock.monotonic() - self._last >= EVERY_S

    def saw(self, hold: Hold | None, *, deployment: str | None, chars: int) -> None:
        """Called per chunk; writes only when `EVERY_S` passed since the last checkpoint."""
        now = self._clock.monotonic()
        if hold is None or now - self._last < EVERY_S:
            return
        if self._writing is not None and not self._writing.done():
            return  # the database is slow: skip this one rather than queue behind it
        self._last = now
        self._writing = self._track(self._write(hold, deployment, tokens_seen(chars)))

    async def _write(self, hold: Hold, deployment: str | None, completion_tokens: int) -> None:
        try:
            await self._budget.checkpoint(
                hold, deployment=deployment, completion_tokens=completion_tokens
            )
        except Exception:  # noqa: BLE001 - an older checkpoint is only a lower estimate
            log.debug("checkpoint of hold %d failed", hold.id, exc_info=True)
