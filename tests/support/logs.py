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
        self._formatter = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self._formatter.format(record))
        self._changed.set()

    def chats(self) -> list[dict[str, object]]:
        return [
            r.fields  # type: ignore[attr-defined]
            for r in self.records
            if r.name == "hub.chat" and isinstance(getattr(r, "fields", None), dict)
        ]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

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
