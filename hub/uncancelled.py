"""Work that must finish even when the task awaiting it is cancelled (money moving).

`asyncio.shield` alone is not enough: it protects the inner work, but the awaiting task
stops waiting at once, so whatever should follow (a log line, re-raising in order, handing
a hold on) is skipped. `outlast` waits for the work to end, then reports whether a
cancellation arrived meanwhile, so the caller can finish its bookkeeping and re-raise it.

It waits on a bare future woken by the work's done callback: `asyncio.wait` builds sets,
a waiter and a callback per future on every call, twice per chat request (hold, settle).
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any


async def outlast(work: asyncio.Future[Any], ready: asyncio.Future[None] | None = None) -> bool:
    """Wait until `work` is done whatever happens to the caller; True if the caller was
    cancelled while waiting (the caller must re-raise `asyncio.CancelledError`).

    `ready`: a future the work itself completes as its last step (`ready_once`), so the
    caller goes on in the loop's next step. The work's own done callbacks are scheduled only
    after the task finished, and the waiter they wake schedules the caller in turn: a step
    later. A cancellation meanwhile cancels `ready` (never `work`); the wait goes on below.
    Only for a task of the caller's own that nothing else cancels: one cancelled before its
    first step never runs the `finally` that completes `ready` (the loop's shutdown, which
    does that, cancels the caller too, and the wait goes on below)."""
    cancelled = False
    if ready is not None and not work.done():
        try:
            await ready
        except asyncio.CancelledError:
            cancelled = True
    while not work.done():
        waiter = work.get_loop().create_future()
        wake = partial(_wake, waiter)
        work.add_done_callback(wake)
        try:
            await waiter  # a cancellation cancels the waiter, never `work`
        except asyncio.CancelledError:
            cancelled = True
            work.remove_done_callback(wake)
    return cancelled


def _wake(waiter: asyncio.Future[None], _work: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def ready_once(ready: asyncio.Future[None]) -> None:
    """The work's end, for `outlast(work, ready)`: a `ready` cancelled with its caller stays so."""
    if not ready.done():
        ready.set_result(None)
