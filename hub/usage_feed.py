"""Usage records as they are committed, for live views (the dashboard's live tail): each
subscriber gets a bounded queue of entries; a slow one loses the oldest, never blocks the
request path. Fed from the observer seam (hub/observer.py), so a record is published only
once its transaction has committed. In this process only: each instance tails its own
traffic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hub.config import ModelSettings
from hub.ledger.usage_entry import UsageEntry
from hub.model import ChatRequest
from hub.observer import ChatObserver, RequestWatch

QUEUE_SIZE = 1000


class UsageFeed:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[UsageEntry]] = set()

    def publish(self, entry: UsageEntry) -> None:
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()  # drop the oldest: a tail shows the latest
            queue.put_nowait(entry)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[UsageEntry]]:
        queue: asyncio.Queue[UsageEntry] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)


class FeedingObserver:
    """The hub's observer, also publishing every committed usage record to the feed."""

    def __init__(self, inner: ChatObserver, feed: UsageFeed) -> None:
        self._inner = inner
        self._feed = feed

    def request(self, request: ChatRequest, model: ModelSettings) -> RequestWatch:
        return self._inner.request(request, model)

    def usage_recorded(self, entry: UsageEntry) -> None:
        self._inner.usage_recorded(entry)
        self._feed.publish(entry)
