"""hub.signals: in-process delivery by default, Redis pub/sub across hubs when configured."""

from __future__ import annotations

import asyncio

import pytest

from hub.clock import FakeClock
from hub.signals import Signals
from tests.support.hubs import free_port
from tests.support.services import REDIS_URL


class Inbox:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.changed = asyncio.Event()

    async def __call__(self, message: str) -> None:
        self.messages.append(message)
        self.changed.set()

    async def wait_for(self, count: int) -> list[str]:
        async with asyncio.timeout(5):
            while len(self.messages) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.messages


async def test_in_process_delivers_to_this_process_only_while_subscribed() -> None:
    signals = Signals(FakeClock())
    inbox, other = Inbox(), Inbox()
    subscription = await signals.subscribe("runs", inbox)
    await signals.subscribe("elsewhere", other)
    assert not signals.shared
    assert await signals.publish("runs", "cancel:1")
    await subscription.close()
    await signals.publish("runs", "cancel:2")
    assert inbox.messages == ["cancel:1"]
    assert other.messages == []
    await signals.close()


async def test_a_failing_handler_does_not_stop_the_others() -> None:
    signals = Signals(FakeClock())

    async def broken(message: str) -> None:
        raise RuntimeError("boom")

    inbox = Inbox()
    await signals.subscribe("runs", broken)
    await signals.subscribe("runs", inbox)
    await signals.publish("runs", "cancel:1")
    assert inbox.messages == ["cancel:1"]
    await signals.close()


@pytest.mark.redis
async def test_redis_carries_messages_between_hubs(prefix: str) -> None:
    clock = FakeClock()
    one = Signals(clock, redis_url=REDIS_URL, key_prefix=prefix)
    two = Signals(clock, redis_url=REDIS_URL, key_prefix=prefix)
    stranger = Signals(clock, redis_url=REDIS_URL, key_prefix=prefix + "other:")
    try:
        here, there, elsewhere = Inbox(), Inbox(), Inbox()
        await one.subscribe("runs", here)
        subscription = await two.subscribe("runs", there)
        await stranger.subscribe("runs", elsewhere)
        assert one.shared
        assert await one.publish("runs", "cancel:abc")
        assert await there.wait_for(1) == ["cancel:abc"]
        assert await here.wait_for(1) == ["cancel:abc"]  # the publisher hears it too
        await subscription.close()
        await one.publish("runs", "cancel:def")
        assert await here.wait_for(2) == ["cancel:abc", "cancel:def"]
        assert there.messages == ["cancel:abc"]
        assert elsewhere.messages == []  # another key prefix is another hub deployment
    finally:
        for signals in (one, two, stranger):
            await signals.close()


async def test_publish_to_unreachable_redis_says_so() -> None:
    signals = Signals(FakeClock(), redis_url=f"redis://127.0.0.1:{free_port()}/0")
    try:
        assert not await signals.publish("runs", "cancel:1")
    finally:
        await signals.close()
