"""Two hubs on one database and one Redis, as two processes of a deployment would be: how the
cache tests show that a change made through one reaches the other's memory."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass

from hub.service import Hub
from tests.support.hubs import RunningHub


@dataclass(frozen=True, slots=True)
class TwoHubs:
    first: RunningHub  # with the team and key the tests use
    second: Hub

    async def after_signal(self, channel: str, change: Awaitable[object]) -> None:
        """Make `change` (through the first hub) and wait until the second hub has handled
        the signal it sends on `channel`."""
        heard = asyncio.Event()

        async def probe(_: str) -> None:  # runs after the cache's handler (subscribed first)
            heard.set()

        subscription = await self.second.signals.subscribe(channel, probe)
        try:
            await change
            # The wait is for the event itself; the bound only stops a lost message from
            # hanging the test (generous: a loaded machine delivers late, not never).
            async with asyncio.timeout(30):
                await heard.wait()
        finally:
            await subscription.close()
