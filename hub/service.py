"""The Hub: the one door into the core, and the composition of router, ledger and store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.admission import Admission
from hub.audit import AuditLog
from hub.billing.catalog import PriceCatalog
from hub.billing.price_book import PriceBook
from hub.billing.service import Billing
from hub.billing.snapshot_catalog import snapshot_path
from hub.bindings import Bindings, ChannelDefaults
from hub.cache.responses import ResponseCaching
from hub.cache.store import MemoryResponseCache, RedisResponseCache, ResponseCache
from hub.chat_stream import ChatStream
from hub.client_address import parse_proxies
from hub.clock import Clock, SystemClock
from hub.config import Settings
from hub.connector import payment_platform
from hub.embeddings import EmbeddingCall, EmbeddingRequest, EmbeddingResult
from hub.events.outbox import EventSink, OutboxSink
from hub.experiments.service import Experiments
from hub.feedback import Feedback
from hub.idempotency import Deliveries
from hub.idempotency_keys import IdempotencyKeys
from hub.ledger.budget import Budget
from hub.ledger.fold import RollupFolder
from hub.ledger.instances import Instances
from hub.ledger.keys import Keys
from hub.ledger.quotas import CallerQuotas
from hub.ledger.recovery import price_estimate
from hub.ledger.reports import UsageReports
from hub.ledger.settlements import Settlements
from hub.ledger.teams import Teams
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.writer import LedgerWriter
from hub.members import Members
from hub.model import ChatRequest
from hub.notices import Notices
from hub.observability.service import Observability
from hub.observability.tracing import inject_trace_headers
from hub.observer import ChatObserver, observe_usage
from hub.provider_keys import ProviderKeys
from hub.providers.base import Provider
from hub.providers.registry import build_provider
from hub.providers.transport import Transports
from hub.rate_counters import build_counters
from hub.ratelimit import RateLimits
from hub.router import Router
from hub.routing.circuit_link import RedisCircuitLink
from hub.routing.circuits import CircuitPolicy, Circuits
from hub.routing.downgrade import Downgrades
from hub.routing.health import HealthBoard
from hub.routing.status import DeploymentStatus, deployment_status
from hub.saved_views import SavedViews
from hub.scheduled_once import ScheduledOnce
from hub.settings_cache import SettingsCache, watch_changes
from hub.signals import Signals
from hub.store.engine import create_engine, create_read_engine, session_factory, shares_pool
from hub.store.migrate import schema_problem
from hub.store.secretbox import SecretBox
from hub.suggestion_reports import SuggestionStore
from hub.suggestions import Suggestions
from hub.two_factor import TwoFactor
from hub.usage_feed import FeedingObserver, UsageFeed

log = logging.getLogger("hub")


class Hub:
    def __init__(
        self,
        settings: Settings,
        *,
        engine: AsyncEngine,
        clock: Clock,
        http: httpx.AsyncClient,
        providers: Mapping[str, Provider] | None = None,
        events: EventSink | None = None,
    ) -> None:
        self.settings = settings
        self._background: set[asyncio.Task[Any]] = set()
        self.engine = engine
        self.clock = clock
        self.http = http
        self.secrets = SecretBox(settings.security.secret_keys)
        self.sessions = session_factory(engine)
        self.observability = Observability(settings, sessions=self.sessions, clock=clock)
        # hub/observer.py: the request path's seam
        self.usage_feed = UsageFeed()  # committed usage records, for live tails
        self.observer: ChatObserver = FeedingObserver(self.observability.observer, self.usage_feed)
        observe_usage(self.sessions, self.observer)
        self.links = self.observability.links
        self.signals = Signals(
            clock, redis_url=settings.redis_url, key_prefix=settings.redis_key_prefix
        )
        # Quotas and event subscriptions read per request, from memory; dropped as soon as a
        # transaction that changed one commits, here or in another process (hub/settings_cache).
        self.settings_cache = SettingsCache(
            clock, ttl_s=settings.ledger.settings_cache_s, signals=self.signals
        )
        watch_changes(self.sessions, self.settings_cache)
        self.events: EventSink = events or OutboxSink(clock, self.settings_cache)
        self.keys = Keys(
            self.sessions,
            clock,
            self.events,
            signals=self.signals,
            cache_ttl_s=settings.security.key_cache_s,
        )
        self.teams = Teams(self.sessions, clock, on_keys_changed=self.keys.forget)
        # Reports read on their own connections where that matters (SQLite): never in the
        # way of the chat path's writes; each session one read-only snapshot.
        self.read_engine = create_read_engine(engine)
        self.read_sessions = session_factory(self.read_engine)
        # Reservations and settlements of concurrent requests share transactions (group
        # commit); SQLite: its own writer connection and thread (hub/ledger/writer.py).
        self.ledger_writer = LedgerWriter(
            engine,
            synchronous=settings.database.sqlite_synchronous,
            synchronous_commit=settings.database.postgres_synchronous_commit,
        )
        # Settlements stage their rollup facts; folded in the writer's batches, and before
        # every report reads the rollups (hub/ledger/fold.py).
        self.folder = RollupFolder(self.ledger_writer, engine)
        self.usage = UsageReports(self.read_sessions, clock, fold=self.folder.fold)
        self.downgrades = Downgrades(self.sessions, clock)  # budget-aware routing (#18)
        # Read before Slack's and Discord's acks: from memory (hub/settings_cache).
        self.bindings = Bindings(self.sessions, clock, self.settings_cache)
        self.channels = ChannelDefaults(self.sessions, clock, self.settings_cache)
        self.members = Members(self.sessions, clock, on_remove=self.keys.forget)
        self.audit = AuditLog(self.sessions, clock)
        self.two_factor = TwoFactor(self.sessions, clock, self.secrets)  # dashboard sign-in
        self.jobs = ScheduledOnce(self.sessions, clock)
        self.notices = Notices(self.sessions)
        self.provider_keys = ProviderKeys(
            self.sessions, clock, self.secrets, frozenset(settings.providers)
        )
        self.rate_limits = RateLimits(
            self.sessions,
            clock,
            defaults=settings.rate_limits,
            counters=build_counters(settings.redis_url, settings.redis_key_prefix, clock),
            shared=bool(settings.redis_url),
        )
        catalog = PriceCatalog(self.sessions, clock)
        self.prices = PriceBook(
            catalog,
            clock,
            models=settings.models,
            providers=settings.providers,
            snapshot=snapshot_path(settings.billing.price_catalog),
        )
        self.suggestions = Suggestions(  # cost advice, kept per team by a scheduled job
            self.usage, self.prices, settings, clock, SuggestionStore(self.sessions)
        )
        # Background writes share the writer's batches (SQLite: no second writer connection
        # taking the lock chat's batches then wait for).
        self.observability.ledger = self.ledger_writer
        # Platform redeliveries' claims too: Slack's and Discord's acks wait for them.
        self.deliveries = Deliveries(self.sessions, clock, self.ledger_writer)
        self.saved_views = SavedViews(self.sessions, clock)  # the dashboard's custom views
        self.budget = Budget(
            self.sessions,
            clock,
            self.events,
            writer=self.ledger_writer,
            on_usage=self._usage_recorded,
            estimate=price_estimate(settings.models, self.prices),
            quotas=CallerQuotas(self.sessions, self.settings_cache),
        )
        # This process's lease: the holds it takes are its own (hub/ledger/instances.py).
        self.instances = Instances(
            self.sessions, clock, self.budget, lease_s=settings.ledger.instance_lease_s
        )
        # Idempotency-Key on the APIs that answer with a result (hub/idempotency_keys.py);
        # a claim held by a process whose lease lapsed is free again.
        self.idempotency = IdempotencyKeys(
            self.sessions,
            self.deliveries,
            clock,
            wait_s=settings.ledger.idempotency_wait_s,
            instance=lambda: self.instances.id,
            live=self.instances.is_live,
        )
        # Settling survives the database: retried, journaled, replayed (hub/ledger/settlements).
        self.settlements = Settlements(
            self.budget, settings.ledger.state_dir, wait_s=settings.ledger.settle_wait_s
        )
        self.billing = Billing(
            self.sessions,
            clock,
            settings=settings.billing,
            catalog=catalog,
            prices=self.prices,
            teams=self.teams,
            jobs=self.jobs,
            events=self.events,
            find_platform=lambda: payment_platform(self),
        )
        self.billing.invoices.fold_rollups = self.usage.folded
        self.admission = Admission(self.members, self.rate_limits, self.billing.accounts)
        self.trusted_proxies = parse_proxies(settings.server.trusted_proxies)
        # Provider calls go over aiohttp, a pool and an in-flight limit per provider
        # (hub/providers/transport.py); `http` (httpx) is for everything off the chat path.
        self.transports = Transports()
        self.providers: Mapping[str, Provider] = providers or {
            name: build_provider(p, transports=self.transports, clock=clock)
            for name, p in settings.providers.items()
        }
        # Routing (#18): per-process health, circuits shared through Redis when configured.
        self.health = HealthBoard(
            clock,
            decay_s=settings.router.latency_decay_s,
            window_s=settings.router.circuit_window_s,
        )
        policy = CircuitPolicy.from_settings(settings.router)
        link = None
        if settings.redis_url:
            link = RedisCircuitLink(
                redis_url=settings.redis_url,
                key_prefix=settings.redis_key_prefix,
                signals=self.signals,
                policy=policy,
                window_s=settings.router.circuit_window_s,
            )
        self.circuits = Circuits(clock, policy, self.health, link=link)
        store: ResponseCache = MemoryResponseCache(clock, max_entries=settings.cache.max_entries)
        if settings.cache.backend == "redis":
            store = RedisResponseCache(
                redis_url=settings.redis_url, key_prefix=settings.redis_key_prefix
            )
        self.caching = ResponseCaching(store)
        # A/B experiments on aliases, and 👍/👎 on answers (#18).
        self.experiments = Experiments(self.sessions, clock, settings.models)
        self.feedback = Feedback(self.sessions, clock)
        self.router = Router(
            models=settings.models,
            default_alias=settings.default_alias,
            providers=self.providers,
            settings=settings.router,
            clock=clock,
            health=self.health,
            circuits=self.circuits,
            cost=lambda d, i, o: self.prices.worst_case(
                [d], prompt_tokens=i, completion_tokens=o, at=clock.now()
            ),
        )

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock | None = None) -> Hub:
        """Build a hub with its own engine and HTTP client; `close()` releases both."""
        http = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            timeout=httpx.Timeout(60.0, connect=10.0),
            event_hooks={"request": [inject_trace_headers]},  # W3C traceparent to upstreams
        )
        return cls(
            settings,
            engine=create_engine(
                settings.database_url, synchronous=settings.database.sqlite_synchronous
            ),
            clock=clock or SystemClock(),
            http=http,
        )

    def _usage_recorded(self, entry: UsageEntry) -> None:
        """A settled record committed: metrics, and its staged rollup facts maybe folded."""
        self.observer.usage_recorded(entry)
        self.folder.staged()

    def track(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run hub bookkeeping in the background; `close()` waits for it."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def start(self) -> None:
        """Join the other processes (shared circuit state) before serving; idempotent."""
        await self.circuits.start()
        await self.keys.start()
        await self.settings_cache.start()
        # Facts staged before a stop or a kill: in the rollups now rather than at the first
        # report (which folds them anyway: a database not ready yet is `readiness`' to say).
        try:
            await self.folder.fold()
        except Exception:  # noqa: BLE001
            log.warning("the staged rollup facts were not folded at start-up", exc_info=True)

    async def drain_background(self) -> None:
        """Until the bookkeeping `track` started (and whatever that starts) has finished."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        await self.drain_background()
        await self.settlements.close()
        # Journaled holds stay for the settlements' replay; anything else left is recovered.
        await self.instances.leave(recover=self.settlements.pending == 0)
        await self.folder.close()
        await self.ledger_writer.close()
        await self.notices.drain()
        await self.keys.close()
        await self.settings_cache.close()
        await self.rate_limits.close()
        await self.circuits.close()
        await self.caching.store.close()
        await self.billing.close()
        try:
            await self.observability.close()  # flushes health counts to the database
        except Exception:  # noqa: BLE001 - stopping while the database is away: lose only those
            log.warning("could not flush deployment health on close", exc_info=True)
        await self.signals.close()
        await self.http.aclose()
        await self.transports.close()
        await self.engine.dispose()
        if not shares_pool(self.read_engine, self.engine):
            await self.read_engine.dispose()

    def chat(self, request: ChatRequest) -> ChatStream:
        """Admit, route, stream and settle one request: `async with hub.chat(r) as stream:`."""
        return ChatStream(self, request)

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResult:
        """Admit, reserve, call and settle one embeddings request (one usage record)."""
        return await EmbeddingCall(self, request).run()

    @property
    def aliases(self) -> list[str]:
        return self.router.aliases

    def deployment_status(self) -> list[DeploymentStatus]:
        """Every deployment's circuit (shared) and health (this process): hub/routing/status."""
        return deployment_status(self.settings.models, self.circuits, self.health)

    async def readiness(self) -> dict[str, str]:
        """Each dependency and its state: "ok" or why not."""
        checks = {"database": "ok" if await self.database_ready() else "unreachable"}
        if checks["database"] == "ok":
            checks["schema"] = await schema_problem(self.engine) or "ok"
        if self.rate_limits.shared:
            ok, why = await self.rate_limits.ready()
            checks["redis"] = "ok" if ok else why
        return checks

    async def database_ready(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False
        return True
