"""Small messages between the hub's own processes: "cancel run X", wherever run X lives.

    subscription = await hub.signals.subscribe("slack.runs", on_message)   # in start()
    await hub.signals.publish("slack.runs", "cancel:" + run_id)            # from any process
    await subscription.close()                                             # in stop()

In-process by default: `publish` calls this process's handlers. With `redis_url` set, messages
go through Redis pub/sub (channel names prefixed with the hub's key prefix), so every process
sharing that Redis receives them, the publisher included. Delivery is best effort, as pub/sub
is: a process that is not subscribed at the moment of publishing never sees the message.
Handlers should be quick (cancel a task, set an event); they run one after another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from hub.clock import Clock
from hub.redis_lazy import redis_client, redis_errors

if TYPE_CHECKING:
    import redis.asyncio as redis

log = logging.getLogger("hub.signals")
Handler = Callable[[str], Awaitable[None]]
SUBSCRIBE_TIMEOUT_S = 10.0
RECONNECT_WAIT_S = 1.0


class Subscription:
    def __init__(self, signals: Signals, channel: str, handler: Handler) -> None:
        self._signals = signals
        self.channel = channel
        self._handler: Handler | None = handler

    async def close(self) -> None:
        handler, self._handler = self._handler, None
        if handler is not None:
            await self._signals.drop(self.channel, handler)


class Signals:
    def __init__(self, clock: Clock, *, redis_url: str = "", key_prefix: str = "unillm") -> None:
        self._clock = clock
        self._prefix = key_prefix.rstrip(":") + ":signals:"
        self._handlers: dict[str, list[Handler]] = {}
        # No I/O here: the client connects on first use.
        self._redis: redis.Redis | None = redis_client(redis_url) if redis_url else None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._confirmed: dict[str, asyncio.Event] = {}
        self._reconnected: list[Callable[[], Awaitable[None]]] = []

    @property
    def shared(self) -> bool:
        """True when other processes receive what this one publishes (Redis)."""
        return self._redis is not None

    async def publish(self, channel: str, message: str) -> bool:
        """Send `message` to every subscriber of `channel`; False if Redis could not take it."""
        if self._redis is None:
            await self._deliver(channel, message)
            return True
        try:
            await self._redis.publish(self._prefix + channel, message)
        except redis_errors() as exc:
            log.warning("could not publish a signal on %s: %s", channel, exc)
            return False
        return True

    async def subscribe(self, channel: str, handler: Handler) -> Subscription:
        """Call `handler(message)` for each message on `channel` until the subscription closes.

        With Redis, returns once Redis has confirmed the subscription, so a message published
        afterwards by any process is received."""
        handlers = self._handlers.setdefault(channel, [])
        handlers.append(handler)
        if self._redis is not None and len(handlers) == 1:
            name = self._prefix + channel
            confirmed = self._confirmed.setdefault(name, asyncio.Event())
            confirmed.clear()
            if self._pubsub is None:
                self._pubsub = self._redis.pubsub()
            await self._pubsub.subscribe(name)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(), name="hub-signals")
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT_S):
                await confirmed.wait()
        return Subscription(self, channel, handler)

    def on_reconnect(self, listener: Callable[[], Awaitable[None]]) -> None:
        """Call `listener()` when the subscription was interrupted: messages published
        meanwhile are lost, so whoever relies on them (caches) must assume the worst."""
        if listener not in self._reconnected:
            self._reconnected.append(listener)

    async def drop(self, channel: str, handler: Handler) -> None:
        handlers = self._handlers.get(channel, [])
        if handler in handlers:
            handlers.remove(handler)
        if handlers:
            return
        self._handlers.pop(channel, None)
        if self._pubsub is not None:
            with contextlib.suppress(*redis_errors()):
                await self._pubsub.unsubscribe(self._prefix + channel)

    async def close(self) -> None:
        self._handlers.clear()
        self._reconnected.clear()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            await self._pubsub.aclose()
            self._pubsub = None
        if self._redis is not None:
            await self._redis.aclose()

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except redis_errors() as exc:
                # redis-py reconnects and resubscribes on the next read.
                log.warning("signal subscription interrupted (%s); reconnecting", exc)
                for listener in list(self._reconnected):
                    await listener()
                await self._clock.sleep(RECONNECT_WAIT_S)
                continue
            if message is None:
                continue
            name = str(message.get("channel", ""))
            if message["type"] == "subscribe" and name in self._confirmed:
                self._confirmed[name].set()
            elif message["type"] == "message" and name.startswith(self._prefix):
                await self._deliver(name.removeprefix(self._prefix), str(message["data"]))

    async def _deliver(self, channel: str, message: str) -> None:
        for handler in list(self._handlers.get(channel, ())):
            try:
                await handler(message)
            except Exception:  # noqa: BLE001 - one failing handler must not stop the others
                log.exception("a signal handler for %s failed", channel)
