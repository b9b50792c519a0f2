"""Capturing the hub's log records, and waiting for one without sleeping."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from hub.logs import JsonFormatter


class LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None  # the waiter's, while one waits
        self._formatter = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self._formatter.format(record))
        # Records also come from other threads (aiosqlite's, the executor's): an asyncio.Event
        # set there would mark itself set without waking the loop, and a later set() from the
        # loop would then do nothing, leaving the waiter asleep until its timeout.
        loop = self._loop
        if loop is None:
            self._changed.set()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._changed.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._changed.set)

    def chats(self) -> list[dict[str, object]]:
        return [
            r.fields  # type: ignore[attr-defined]
            for r in self.records
            if r.name == "hub.chat" and isinstance(getattr(r, "fields", None), dict)
        ]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    self._changed.clear()
                    await self._changed.wait()
        finally:
            self._loop = None

    async def wait_for_chats(self, count: int, timeout: float = 10.0) -> None:
        await self.wait_for(lambda: len(self.chats()) >= count, timeout)


@contextmanager
def capture_logs() -> Iterator[LogCapture]:
    handler = LogCapture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
