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
`within` is the bounded wait the same way (the settlement's `settle_wait_s`): the work goes
on past the timeout and past the caller's cancellation, which is raised in the caller;
`outlast_until` is `outlast` bounded so.
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


async def within(work: asyncio.Future[Any], seconds: float) -> None:
    """Wait until `work` is done or `seconds` have passed, whichever comes first; the work goes
    on either way (a timeout or the caller's cancellation never cancels it), and a
    cancellation of the caller is raised here. The work's outcome is left for the caller to
    read (its failure is not raised here). The caller goes on in the loop's step after the
    work's end, as `await work` would: `asyncio.wait((work,), timeout=seconds)` woke it a step
    later (the work's done callback set a waiter, whose own callback then woke the task)."""
    if work.done():
        return
    task = asyncio.current_task()
    assert task is not None
    before = task.cancelling()
    view = _Bounded(work)
    timer = work.get_loop().call_later(seconds, view.detach)
    try:
        await view
    except asyncio.CancelledError:
        # The caller's (raised), or the work's own (left for the caller to read): the task's
        # count of cancellation requests tells them apart, as in `outlast`.
        if not work.cancelled() or task.cancelling() > before:
            raise
    except BaseException:  # noqa: BLE001, S110 - the work's failure, for the caller to read
        pass
    finally:
        timer.cancel()


async def outlast_until(work: asyncio.Future[Any], seconds: float) -> bool:
    """`outlast`, for at most `seconds`: wait until `work` is done or the time is up, whatever
    happens to the caller; True if the caller was cancelled meanwhile (the caller must
    re-raise `asyncio.CancelledError`). The work goes on either way; its outcome is left for
    the caller to read."""
    if work.done():  # nearly always on SQLite, whose batch commits inline: no timer
        return False
    task = asyncio.current_task()
    assert task is not None
    before = task.cancelling()
    cancelled = False
    view = _Bounded(work, declining=True)
    timer = work.get_loop().call_later(seconds, view.detach)
    try:
        while not work.done() and not view.detached:
            try:
                await view
            except asyncio.CancelledError:
                if not work.cancelled() or task.cancelling() > before:
                    cancelled = True
            except BaseException:  # noqa: BLE001, S110 - the work's failure, for the caller
                pass
    finally:
        timer.cancel()
    return cancelled


class _Bounded:
    """`work` as the awaiting task sees it, until detached: the task's wake-up is the work's
    own done callback; a timeout (`detach`) or the task's cancellation (`cancel`) takes it
    off the work and wakes the task with a future of their own (done, or cancelled), so
    the work never learns of either. `declining`: a cancellation only marks the task, as
    `_Outlasted`'s, and the task is woken by the work or the timeout alone."""

    __slots__ = ("_asyncio_future_blocking", "_declining", "_wake", "_work", "detached")

    def __init__(self, work: asyncio.Future[Any], *, declining: bool = False) -> None:
        self._work = work
        self._declining = declining
        self._asyncio_future_blocking = False
        self._wake: tuple[Callable[[Any], object], Context | None] | None = None
        self.detached = False

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._work.get_loop()

    def add_done_callback(
        self, fn: Callable[[Any], object], *, context: Context | None = None
    ) -> None:
        self._wake = (fn, context)
        self._work.add_done_callback(fn, context=context)

    def cancel(self, msg: Any = None) -> bool:
        if self._declining:
            return False  # the task is cancelled when it resumes; the wait goes on
        return self.detach(cancelled=True, msg=msg)

    def detach(self, *, cancelled: bool = False, msg: Any = None) -> bool:
        wake = self._wake
        if wake is None or self._work.done() or self.detached:
            return False  # the work's end already woke (or wakes) the task
        fn, context = wake
        self._work.remove_done_callback(fn)
        self.detached = True
        loop = self._work.get_loop()
        woken: asyncio.Future[None] = loop.create_future()
        if cancelled:
            woken.cancel(msg)
        else:
            woken.set_result(None)
        loop.call_soon(fn, woken, context=context)
        return True

    def __await__(self) -> Generator[Any, None, None]:
        if not self._work.done():
            self._asyncio_future_blocking = True
            yield self
