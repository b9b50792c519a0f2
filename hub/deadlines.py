"""Streams that cannot run forever: a total deadline, and an idle timeout between chunks.

A provider's own `timeout_s` bounds connecting and each read, but an upstream that sends
`: ping` comments every few seconds resets a read timeout forever. These bounds are counted
in chunks the provider yields (comments and keep-alives yield none), on the event loop's
clock, around whatever transport the provider speaks over.

One timer per stream, not one per chunk: an `asyncio.timeout` scope around every read
schedules and cancels a timer handle per chunk (a few per cent of a request's CPU, twice
over: the attempt's bounds and the request's). The timer here is set once and, when it
fires early (a chunk came meanwhile, so the idle bound moved), set again for the new due
time; it cancels the reading task only while that task is waiting on the source.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import TypeVar

from hub.errors import ProviderTimeout

T = TypeVar("T")


class _Alarm:
    """The one timer of a stream: cancels the reading task once a bound passes while it
    waits on the source."""

    __slots__ = ("_loop", "_deadline", "_idle_s", "_handle", "_task", "_since", "fired")

    def __init__(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        self._loop = loop
        self._deadline = deadline
        self._idle_s: float | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[object] | None = None  # the reader, while it waits
        self._since = 0.0  # when it began to wait
        self.fired: str | None = None  # "idle" or "total" once it cancelled the reader

    def _due(self) -> float:
        if self._idle_s is None:
            return self._deadline
        return min(self._deadline, self._since + self._idle_s)

    def waiting(self, task: asyncio.Task[object], idle_s: float | None) -> None:
        """`task` is about to wait on the source."""
        self._task, self._idle_s, self._since = task, idle_s, self._loop.time()
        if self._handle is None:
            self._handle = self._loop.call_at(self._due(), self._ring)
        elif self._handle.when() > self._due():  # sooner than it is set for (idle_s shrank)
            self._handle.cancel()
            self._handle = self._loop.call_at(self._due(), self._ring)
        # Else the handle stays: one set earlier rings early and is set again (_ring).

    def read(self) -> None:
        """The wait ended (an item, the end, an error)."""
        self._task = None

    def _ring(self) -> None:
        self._handle = None
        if self._task is None:
            return  # between reads: the next wait sets it again
        due = self._due()
        if due > self._loop.time():
            self._handle = self._loop.call_at(due, self._ring)
            return
        self.fired = "total" if due >= self._deadline else "idle"
        self._task.cancel()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


async def within_deadlines(
    source: AsyncIterator[T],
    *,
    total_s: float,
    idle_s: float | None,
    expired: Callable[[str], ProviderTimeout],
) -> AsyncGenerator[T, None]:
    """Yield what `source` yields; past `total_s` in all, or `idle_s` without a chunk, close
    it and raise `expired(why)`. `source` is closed however this ends."""
    loop = asyncio.get_running_loop()
    alarm = _Alarm(loop, loop.time() + total_s)
    try:
        while True:
            # The task that iterates now (a stream may be read on from another task).
            task = asyncio.current_task()
            assert task is not None
            cancelling = task.cancelling()  # requests before this wait are not ours
            alarm.waiting(task, idle_s)
            try:
                item = await anext(source)
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                if alarm.fired is None or task.uncancel() > cancelling:
                    raise  # not ours, or another cancellation came too: that one goes on
                if alarm.fired == "idle":
                    raise expired(f"no data for {idle_s:g} s") from None
                raise expired(f"past the {total_s:g}-second deadline") from None
            finally:
                alarm.read()
            yield item
    finally:
        alarm.close()
        closer = getattr(source, "aclose", None)
        if closer is not None:
            await closer()
