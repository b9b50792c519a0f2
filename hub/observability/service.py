"""Observability for one hub: metrics, tracing, deployment health and platform links, built
from settings and handed to the core as one observer (hub/observer.py)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.config import Settings
from hub.observability.errors import ErrorReporter
from hub.observability.health import AttemptLog
from hub.observability.links import Links
from hub.observability.observer import HubObserver
from hub.observability.tracing import Tracing
from hub.observer import observe_usage
from hub.scheduled_once import process_label

if TYPE_CHECKING:
    from hub.ledger.writer import LedgerWriter
    from hub.observability.metrics import HubMetrics


class Observability:
    def __init__(
        self, settings: Settings, *, sessions: async_sessionmaker[AsyncSession], clock: Clock
    ) -> None:
        instance = process_label()
        self._per_key = settings.metrics.per_key
        self.tracing = Tracing(settings.otel, log_content=settings.logging.log_content)
        self.attempts = AttemptLog(instance)
        self.links = Links(sessions, clock, instance=instance)
        self.observer = HubObserver(
            metrics=lambda: self.metrics,
            tracing=self.tracing,
            attempts=self.attempts,
            providers=settings.providers,
            clock=clock,
        )
        self.errors = ErrorReporter(
            settings.errors, metrics=lambda: self.metrics, secrets=secrets_of(settings)
        )
        logging.getLogger().addHandler(self.errors.handler)
        self._sessions = sessions
        self._clock = clock
        # The hub's ledger writer, once built: health counts are written in its batches.
        self.ledger: LedgerWriter | None = None
        observe_usage(sessions, self.observer)

    @functools.cached_property
    def metrics(self) -> HubMetrics:
        """Built on first use: a `hub` command that handles no request never loads
        prometheus-client."""
        from hub.observability.metrics import HubMetrics

        return HubMetrics(per_key=self._per_key)

    async def flush_health(self) -> int:
        """Write this process's attempt counts for every process's readers (a scheduled job)."""
        return await self.attempts.flush(self._sessions, now=self._clock.now(), writer=self.ledger)

    async def close(self) -> None:
        await self.links.close()
        await self.flush_health()
        # Exporters post over HTTP and block: never on the event loop.
        await asyncio.to_thread(self.tracing.shutdown)
        await asyncio.to_thread(self.errors.close)


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the configuration holds: masked wherever it appears in an error report."""
    found = [p.api_key for p in settings.providers.values()]
    found += [
        settings.security.operator_key,
        settings.metrics.bearer_token,
        *settings.security.secret_keys,
    ]
    for section in settings.connectors.values():
        values = section.model_dump() if not isinstance(section, dict) else section
        found += list(_secret_values(values))
    return [s for s in found if s]


def _secret_values(section: Mapping[str, Any]) -> Iterator[str]:
    for name, value in section.items():
        if isinstance(value, str) and any(w in name for w in ("token", "secret", "key")):
            yield value
