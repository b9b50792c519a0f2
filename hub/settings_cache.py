"""Settings the chat path reads on every request, from memory: a caller's quotas, which events
a team's subscriptions want, which team a Slack workspace or Discord guild bills and a
channel's default model. Without this, each reserve and each settle ran a SELECT for rows
that change a few times a month.

    quotas = await cache.get("quotas", key, load)       # load() only on a miss or past the TTL

Invalidation does not depend on who writes: sessions made by a watched factory
(`watch_changes`) note every flush and every bulk UPDATE/DELETE that touches a watched table
(quotas, subscriptions), and when such a transaction commits the kind is dropped at once in
this process and, through `hub.signals`, in every process sharing Redis. Pub/sub is best
effort, so the TTL (`[ledger] settings_cache_s`) bounds staleness when a message is lost or
another process writes without Redis; a lost subscription clears the cache (`on_reconnect`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from hub.clock import Clock
from hub.signals import Signals, Subscription
from hub.store.event_tables import Subscription as EventSubscription
from hub.store.ledger_tables import Quota, Team
from hub.store.platform_tables import Binding, ChannelSetting

log = logging.getLogger("hub.settings_cache")
T = TypeVar("T")
CHANNEL = "settings"  # hub.signals channel: the kind that changed, or "*"
# Tables whose rows are cached, by the kind of entry they feed.
WATCHED: dict[type[Any], str] = {
    Quota: "quotas",
    EventSubscription: "subscriptions",
    Binding: "bindings",  # which team pays for a workspace or guild (hub/bindings.py)
    Team: "bindings",  # the team's name, in the binding's Caller
    ChannelSetting: "channels",  # a channel's default model
}
_CACHE = "hub.settings_cache"
_CHANGED = "hub.settings_cache.changed"


class SettingsCache:
    def __init__(self, clock: Clock, *, ttl_s: float, signals: Signals | None = None) -> None:
        self._clock = clock
        self._ttl = ttl_s
        self._signals = signals
        self._entries: dict[tuple[str, Hashable], tuple[float, Any]] = {}
        # Bumped by every invalidation of a kind: a load that started before one is not kept.
        self._generations: dict[str, int] = {}
        self._subscription: Subscription | None = None
        self._publishing: set[asyncio.Task[Any]] = set()
        self._loading: dict[tuple[str, Hashable], tuple[int, asyncio.Future[Any]]] = {}

    async def get(self, kind: str, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        found = self._entries.get((kind, key))
        if found is not None and found[0] > self._clock.monotonic():
            value: T = found[1]
            return value
        generation = self._generations.get(kind, 0)
        # One load per entry at a time: when an entry lapses under load, the requests that
        # want it meanwhile wait for that one read instead of each sending its own.
        loading = self._loading.get((kind, key))
        if loading is None or loading[0] != generation:
            loading = (generation, asyncio.ensure_future(load()))
            self._loading[(kind, key)] = loading
            loading[1].add_done_callback(lambda _: self._loaded((kind, key), loading))
        loaded: T = await asyncio.shield(loading[1])
        if self._ttl > 0 and self._generations.get(kind, 0) == generation:
            self._entries[(kind, key)] = (self._clock.monotonic() + self._ttl, loaded)
        return loaded

    def peek(self, kind: str, key: Hashable) -> Any:
        """The entry's value while it is in memory and fresh, else None (`get` loads it)."""
        found = self._entries.get((kind, key))
        if found is not None and found[0] > self._clock.monotonic():
            return found[1]
        return None

    def _loaded(self, entry: tuple[str, Hashable], loading: tuple[int, Any]) -> None:
        if self._loading.get(entry) is loading:
            del self._loading[entry]

    def forget(self, kind: str | None = None) -> None:
        """Drop every entry of `kind` (None: everything) in this process."""
        kinds = set(WATCHED.values()) if kind is None else {kind}
        for name in kinds:
            self._generations[name] = self._generations.get(name, 0) + 1
        for entry in [e for e in self._entries if e[0] in kinds]:
            del self._entries[entry]

    def changed(self, kinds: set[str]) -> None:
        """Rows of these kinds changed (a transaction committed): forget them here now, and
        tell the other processes."""
        for kind in kinds:
            self.forget(kind)
        if self._signals is None or not self._signals.shared:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # committed outside an event loop: the TTL bounds the other processes
        for kind in sorted(kinds):
            task = loop.create_task(self._signals.publish(CHANNEL, kind))
            self._publishing.add(task)
            task.add_done_callback(self._publishing.discard)

    async def start(self) -> None:
        """Hear other processes' changes; idempotent. Redis down: the TTL bounds staleness."""
        if self._signals is None or not self._signals.shared or self._subscription is not None:
            return
        try:
            self._subscription = await self._signals.subscribe(CHANNEL, self._on_signal)
        except Exception as exc:  # noqa: BLE001 - Redis down must not stop the hub serving
            log.warning("settings changes from other processes not heard (%s)", exc)
            return
        self._signals.on_reconnect(self._on_reconnect)

    async def close(self) -> None:
        # A CLI process that changed a quota says so before it exits.
        if self._publishing:
            await asyncio.gather(*list(self._publishing), return_exceptions=True)
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None

    async def _on_signal(self, message: str) -> None:
        if message == "*":
            self.forget()
        elif message in WATCHED.values():
            self.forget(message)
        else:
            log.warning("ignored a malformed settings invalidation: %r", message[:40])

    async def _on_reconnect(self) -> None:
        self.forget()


def watch_changes(sessions: async_sessionmaker[AsyncSession], cache: SettingsCache) -> None:
    """Sessions from `sessions` tell `cache` when they commit a change to a watched table."""
    info = dict(sessions.kw.get("info") or {})
    info[_CACHE] = cache
    sessions.configure(info=info)
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)


def _note(session: Session, kind: str) -> None:
    if _CACHE in session.info:
        session.info.setdefault(_CHANGED, set()).add(kind)


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    if _CACHE not in session.info:
        return
    for row in (*session.new, *session.dirty, *session.deleted):
        kind = WATCHED.get(type(row))
        if kind is not None:
            _note(session, kind)


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    for mapper in state.all_mappers:
        kind = WATCHED.get(mapper.class_)
        if kind is not None:
            _note(state.session, kind)


def _after_commit(session: Session) -> None:
    kinds = session.info.pop(_CHANGED, None)
    if kinds:
        cache: SettingsCache = session.info[_CACHE]
        cache.changed(kinds)


def _after_rollback(session: Session, previous: Any) -> None:
    if previous.parent is None:  # the whole transaction, not a savepoint: nothing changed
        session.info.pop(_CHANGED, None)
