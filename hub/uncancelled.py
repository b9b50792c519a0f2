"""Work that must finish even when the task awaiting it is cancelled (money moving).

`asyncio.shield` alone is not enough: it protects the inner work, but the awaiting task
stops waiting at once, so whatever should follow (a log line, re-raising in order, handing
a hold on) is skipped. `outlast` waits for the work to end, then reports whether a
cancellation arrived meanwhile, so the caller can finish its bookkeeping and re-raise it.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def outlast(work: asyncio.Future[Any]) -> bool:
    """Wait until `work` is done whatever happens to the caller; True if the caller was
    cancelled while waiting (the caller must re-raise `asyncio.CancelledError`)."""
    cancelled = False
    while not work.done():
        try:
            await asyncio.wait([work])
        except asyncio.CancelledError:
            cancelled = True
    return cancelled
