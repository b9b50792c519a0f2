"""A streamed answer shown live: text accumulates, the surface is updated at most once a
second (on the hub clock, so tests need no real waiting), and a final pass shows it all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from connectors.discord.pages import Surface
from connectors.discord.render import split_message
from hub.clock import Clock

log = logging.getLogger("connectors.discord.live")

EDIT_INTERVAL_S = 1.0


class LiveAnswer:
    def __init__(self, surface: Surface, clock: Clock, *, interval: float = EDIT_INTERVAL_S):
        self._surface = surface
        self._clock = clock
        self._interval = interval
        self._text = ""
        self._dirty = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None

    @property
    def text(self) -> str:
        return self._text

    def add(self, delta: str) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._edit_loop())
        self._text += delta
        self._dirty.set()

    async def finish(
        self, suffix: str = "", *, closing: list[dict[str, Any]] | None = None
    ) -> None:
        """Wait out the current interval, then show the whole text (plus `suffix`), with
        `closing` components (feedback buttons) under the last page."""
        await self._stop_loop()
        text = self._text + suffix if self._text else suffix.lstrip()
        await self._surface.show(split_message(text), final=True, closing=closing)

    async def close(self) -> None:
        """Stop editing without a final pass (the answer is being abandoned)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _stop_loop(self) -> None:
        self._closed = True
        self._dirty.set()
        if self._task is not None:
            await self._task

    async def _edit_loop(self) -> None:
        while True:
            await self._dirty.wait()
            if self._closed:
                return
            self._dirty.clear()
            if self._text.strip():
                try:
                    await self._surface.show(split_message(self._text), final=False)
                except Exception:  # noqa: BLE001 - one failed edit must not end the answer
                    log.warning("editing the streamed answer failed", exc_info=True)
            await self._clock.sleep(self._interval)
