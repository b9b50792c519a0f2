"""Work that must finish even when the task awaiting it is cancelled (money moving).

`asyncio.shield` alone is not enough: it protects the inner work, but the awaiting task
stops waiting at once, so whatever should follow (a log line, re-raising in order, handing
a hold on) is skipped. `outlast` waits for the work to end, then reports whether a
cancellation arrived meanwhile, so the caller can finish its bookkeeping and re-raise it.

The caller's task waits on the work itself, through a view that refuses to be cancelled
(`_Outlasted`): a cancellation then only marks the task, which asyncio raises in it once the
work is done. No future in between: a waiter woken by the work's done callback cost a
future, a callback and a loop iteration per wait (twice per chat request: hold, settle),
and `asyncio.wait` builds sets, a waiter and a callback per future on every call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from contextvars import Context
from typing import Any


async def outlast(work: asyncio.Future[Any]) -> bool:
    """Wait until `work` is done whatever happens to the caller; True if the caller was
    cancelled while waiting (the caller must re-raise `asyncio.CancelledError`). The caller
    goes on in the loop's step after the work's end, as `await work` would; the work's
    outcome (its result, or the error it failed with) is left for the caller to read, and
    must be: waiting marks a failed work's error as retrieved (asyncio's wake-up reads it),
    so a caller that dropped it would hear no "exception was never retrieved"."""
    task = asyncio.current_task()
    assert task is not None
    before = task.cancelling()
    cancelled = False
    while not work.done():  # one pass: the task resumes only once the work is done
        try:
            await _Outlasted(work)
        except asyncio.CancelledError:
            # Ours, or the work's own (it was cancelled): the task's count of cancellation
            # requests tells them apart.
            if not work.cancelled() or task.cancelling() > before:
                cancelled = True
        except BaseException:  # noqa: BLE001, S110 - the work's failure, for the caller to read
            pass
    return cancelled


class _Outlasted:
    """`work` as the awaiting task sees it (asyncio's future protocol: the blocking flag,
    the loop, done callbacks, cancel), except that cancelling the task does not cancel the
    work: `cancel` declines, so the task keeps waiting and has the cancellation raised once
    the work's done callback wakes it."""

    __slots__ = ("_work", "_asyncio_future_blocking")

    def __init__(self, work: asyncio.Future[Any]) -> None:
        self._work = work
        self._asyncio_future_blocking = False

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._work.get_loop()

    def add_done_callback(
        self, fn: Callable[[asyncio.Future[Any]], object], *, context: Context | None = None
    ) -> None:
        self._work.add_done_callback(fn, context=context)

    def cancel(self, msg: Any = None) -> bool:
        return False  # the task is cancelled when it resumes; the work goes on

    def __await__(self) -> Generator[Any, None, None]:
        if not self._work.done():
            self._asyncio_future_blocking = True
            yield self
