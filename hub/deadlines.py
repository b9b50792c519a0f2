"""Streams that cannot run forever: a total deadline, and an idle timeout between chunks.

A provider's own `timeout_s` bounds connecting and each read, but an upstream that sends
`: ping` comments every few seconds resets a read timeout forever. These bounds are counted
in chunks the provider yields (comments and keep-alives yield none), on the event loop's
clock, around whatever transport the provider speaks over.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import TypeVar

from hub.errors import ProviderTimeout

T = TypeVar("T")


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
    deadline = loop.time() + total_s
    try:
        while True:
            left = deadline - loop.time()
            wait = left if idle_s is None else min(idle_s, left)
            try:
                async with asyncio.timeout(max(wait, 0.0)) as scope:
                    item = await anext(source)
            except StopAsyncIteration:
                return
            except TimeoutError:
                if not scope.expired():
                    raise  # the source's own, not ours
                if idle_s is not None and wait == idle_s and wait < left:
                    raise expired(f"no data for {idle_s:g} s") from None
                raise expired(f"past the {total_s:g}-second deadline") from None
            yield item
    finally:
        closer = getattr(source, "aclose", None)
        if closer is not None:
            await closer()
