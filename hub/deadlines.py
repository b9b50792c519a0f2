"""Streams that cannot run forever: a total deadline, and an idle timeout between chunks.

A provider's own `timeout_s` bounds connecting and each read, but an upstream that sends
`: ping` comments every few seconds resets a read timeout forever. These bounds are counted
in chunks the provider yields (comments and keep-alives yield none), on the event loop's
clock, around whatever transport the provider speaks over.

One timer per stream, not one per chunk: an `asyncio.timeout` scope around every read
schedules and cancels a timer handle per chunk (a few per cent of a request's CPU). The
timer here is set once and, when it fires early (a chunk came meanwhile, so the idle bound
moved), set again for the new due time; it cancels the reading task only while that task is
waiting on the source. An attempt's bounds also keep the request's deadline once the attempt
answers (`within`): one timer and one wait per chunk for both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

from hub.errors import ProviderTimeout

T = TypeVar("T")


class Bounds:
    """A stream's deadlines and their one timer, for a loop that reads the stream itself (no
    generator layer between it and its source: the hot path reads every chunk through two
    of them). Each read is `await bounds.next(source)` (anything else the stream waits on,
    `await bounds.wait(work)`), and `close()` once the stream ends, however it ends. The
    timer cancels the reading task only while it waits."""

    __slots__ = (
        "_loop",
        "_deadline",
        "_total_s",
        "_idle_s",
        "_expired",
        "_handle",
        "_task",
        "_since",
        "_within",
        "_until",
        "fired",
    )

    def __init__(
        self, *, total_s: float, idle_s: float | None, expired: Callable[[str], ProviderTimeout]
    ) -> None:
        self._loop = loop = asyncio.get_running_loop()
        self._deadline = loop.time() + total_s
        self._total_s = total_s
        self._idle_s = idle_s
        self._expired = expired
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[object] | None = None  # the reader, while it waits
        self._since = 0.0  # when it began to wait
        self._within: Bounds | None = None  # an outer stream's bounds this one also keeps
        self._until = self._deadline  # the earlier of its deadline and the outer one's
        # "idle", "total" or "outer" (the outer bounds' deadline) once it cancelled the reader
        self.fired: str | None = None

    def within(self, outer: Bounds) -> None:
        """Keep `outer`'s deadline too from now on (a request's, for the attempt that answers
        it: one timer and one wait per chunk instead of two); when it is the one that passes,
        `fired` is "outer" and the timeout is `outer`'s."""
        self._within = outer
        self._until = min(self._deadline, outer._deadline)
        handle = self._handle
        if handle is not None and handle.when() > self._until:  # the next wait sets it again
            handle.cancel()
            self._handle = None
        # Else it stays: due no later than the outer deadline, it rings early and is set
        # again for what is due then (_ring).

    def _due(self) -> float:
        if self._idle_s is None:
            return self._until
        return min(self._until, self._since + self._idle_s)

    def _ring(self) -> None:
        self._handle = None
        if self._task is None:
            return  # between reads: the next wait sets it again
        due = self._due()
        if due > self._loop.time():
            self._handle = self._loop.call_at(due, self._ring)
            return
        outer = self._within
        if outer is not None and due >= outer._deadline:
            self.fired = "outer"
        else:
            self.fired = "total" if due >= self._deadline else "idle"
        self._task.cancel()

    def _timeout(self, task: asyncio.Task[object], cancelling: int) -> ProviderTimeout | None:
        """For a wait cancelled: the bound that passed, as the ProviderTimeout to raise; None
        when the cancellation was not ours (or another came too), to be raised on."""
        fired = self.fired
        if fired is None or task.uncancel() > cancelling:
            return None
        if fired == "idle":
            return self._expired(f"no data for {self._idle_s:g} s")
        if fired == "outer" and self._within is not None:
            return self._within._past_deadline()
        return self._past_deadline()

    def _past_deadline(self) -> ProviderTimeout:
        return self._expired(f"past the {self._total_s:g}-second deadline")

    async def next(self, source: AsyncIterator[T]) -> T:
        """`source`'s next item (StopAsyncIteration at its end), or the ProviderTimeout of the
        bound that passed while waiting for it."""
        # About to wait, from the task that iterates now (a stream may be read on from
        # another task). Inline, not helper calls: this runs for every chunk.
        loop = self._loop
        task = asyncio.current_task(loop)  # with the loop: a third of the cost
        assert task is not None
        self._task = task
        idle_s = self._idle_s
        if idle_s is not None:
            self._since = loop.time()
        if self._handle is None:
            until = self._until
            due = until if idle_s is None else min(until, self._since + idle_s)
            self._handle = loop.call_at(due, self._ring)
        # Else the handle stays: set for an earlier wait, it is due no later than this one
        # (the idle bound is the stream's), rings early and is set again (_ring).
        cancelling = task.cancelling()  # cancellation requests before this wait are not ours
        try:
            return await anext(source)
        except asyncio.CancelledError:
            timeout = self._timeout(task, cancelling)
            if timeout is None:
                raise  # not ours, or another cancellation came too: that one goes on
            raise timeout from None
        finally:
            self._task = None  # the wait ended (an item, the end, an error)

    async def wait(self, work: Awaitable[T]) -> T:
        """`work`'s outcome, or the ProviderTimeout of the bound that passed meanwhile: what
        `next` is for one read, for whatever else the stream waits on (once per stream)."""
        return await self.next(_Once(work))

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class _Once(Generic[T]):
    """`work` as a source of one item, so that `Bounds.wait` is `Bounds.next`'s wait."""

    __slots__ = ("_work",)

    def __init__(self, work: Awaitable[T]) -> None:
        self._work = work

    def __aiter__(self) -> _Once[T]:
        return self

    def __anext__(self) -> Awaitable[T]:
        return self._work
