"""The hub's Prometheus metrics that count events in this process (requests, tokens, spend,
attempts, latencies). What lives in the database (budgets, outbox, platform links,
deployment health) is read at scrape time instead (hub/observability/scrape.py).

Labels come only from this allowlist, so the number of series is bounded by the
configuration, never by traffic:

    connector   openai_api, slack, discord, webhooks, zapier, cli
    alias       a configured model alias
    deployment  "provider/model" of a configured deployment
    provider    a configured provider name
    team        a hub team (teams are few and named by operators)
    status      ok, error, cancelled, partial, interrupted, cached
    type        input, cached_input, cache_write, output, reasoning
    outcome     ok, or the error code of a failed attempt
    reason      the error code that caused a retry, fallback or refusal
    cache       hit, miss, bypass (the response cache's verdict)
    key         the API key id: only with `[metrics] per_key = true`

No user, channel, member or request id is ever a label.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.metrics import MetricWrapperBase

from hub.ledger.money import micros_to_usd
from hub.ledger.usage_entry import UsageEntry

REQUEST_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
TTFT_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)
OVERHEAD_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
TOKEN_TYPES = ("input", "cached_input", "cache_write", "output", "reasoning")


class HubMetrics:
    """One set per hub. With PROMETHEUS_MULTIPROC_DIR set, prometheus-client keeps the values
    in files shared by every process of the deployment and /metrics sums them."""

    def __init__(self, *, per_key: bool = False) -> None:
        self.per_key = per_key
        self.registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self._adders: dict[tuple[int, tuple[str, ...]], Callable[[float], None]] = {}
        key = ("key",) if per_key else ()
        r = self.registry
        self.requests = Counter(
            "unillm_requests_total",
            "Chat requests, one per usage record, by how they ended.",
            ("connector", "alias", "deployment", "team", "status", *key),
            registry=r,
        )
        self.tokens = Counter(
            "unillm_tokens_total",
            "Tokens per usage record by type (input counts all input, cached included).",
            ("connector", "alias", "deployment", "team", "type", *key),
            registry=r,
        )
        self.spend = Counter(
            "unillm_spend_usd_total",
            "Spend in USD, as charged to the ledger.",
            ("connector", "alias", "deployment", "team", *key),
            registry=r,
        )
        self.attempts = Counter(
            "unillm_upstream_attempts_total",
            "Upstream calls (every retry and fallback is one), by outcome.",
            ("provider", "deployment", "outcome"),
            registry=r,
        )
        self.retries = Counter(
            "unillm_retries_total",
            "Attempts retried on the same deployment, by the error that caused it.",
            ("deployment", "reason"),
            registry=r,
        )
        self.fallbacks = Counter(
            "unillm_fallbacks_total",
            "Requests passed on to the alias's next deployment, by the error that caused it.",
            ("alias", "deployment", "reason"),
            registry=r,
        )
        self.rejections = Counter(
            "unillm_rate_limit_rejections_total",
            "Requests refused before any spend: rate limits and budget or token quotas.",
            ("connector", "reason"),
            registry=r,
        )
        self.cache = Counter(
            "unillm_cache_lookups_total",
            "Response cache lookups of aliases with a cache, by verdict: hit, miss, bypass.",
            ("alias", "cache"),
            registry=r,
        )
        self.cache_saved = Counter(
            "unillm_cache_saved_usd_total",
            "Provider cost the response cache's hits avoided (USD), by team.",
            ("alias", "team"),
            registry=r,
        )
        self.errors = Counter(
            "unillm_unexpected_errors_total",
            "Unexpected exceptions (reported to the error tracker when one is configured).",
            ("component",),
            registry=r,
        )
        self.duration = Histogram(
            "unillm_request_duration_seconds",
            "Time from admission to the end of the answer.",
            ("connector", "alias", "status"),
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.upstream = Histogram(
            "unillm_upstream_duration_seconds",
            "Duration of each upstream attempt.",
            ("provider", "deployment", "outcome"),
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "unillm_time_to_first_token_seconds",
            "Time from admission to the first text delta passed on.",
            ("alias", "deployment"),
            buckets=TTFT_BUCKETS,
            registry=r,
        )
        self.overhead = Histogram(
            "unillm_overhead_seconds",
            "The hub's own time per request: admission, budget hold and settlement.",
            ("connector",),
            buckets=OVERHEAD_BUCKETS,
            registry=r,
        )

    def of(self, metric: MetricWrapperBase, *values: str) -> Any:
        """`metric.labels(*values)`, remembered: prometheus-client validates and locks on
        every `labels()` call (tens of microseconds); the label sets are few and fixed."""
        key = (id(metric), values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def adder(self, metric: Counter, *values: str) -> Callable[[float], None]:
        """What `metric.labels(*values).inc(n)` ends in, remembered: the child's value's
        `inc` (in memory, or the multi-process file's), without the checks `Counter.inc`
        makes on every call (that it is not a parent with labels, that n is not negative, an
        exemplar): ours are children and every caller adds a positive amount. A child that
        keeps no such value falls back to its own `inc`."""
        key = (id(metric), values)
        inc = self._adders.get(key)
        if inc is None:
            child = self.of(metric, *values)
            inc = getattr(getattr(child, "_value", None), "inc", None) or child.inc
            self._adders[key] = inc
        return inc

    def usage(self, entry: UsageEntry) -> None:
        """One usage record committed: the request, its tokens and its spend."""
        base = (entry.origin.connector, entry.alias, entry.deployment or "", entry.caller.team_name)
        key = (str(entry.caller.key_id or ""),) if self.per_key else ()
        self.adder(self.requests, *base, entry.status, *key)(1)
        usage = entry.usage
        counts = (
            usage.prompt_tokens,
            usage.cached_tokens,
            usage.cache_write_tokens,
            usage.completion_tokens,
            usage.reasoning_tokens,
        )
        for kind, count in zip(TOKEN_TYPES, counts, strict=True):
            if count > 0:
                self.adder(self.tokens, *base, kind, *key)(count)
        if entry.cost_micros > 0:
            self.adder(self.spend, *base, *key)(micros_to_usd(entry.cost_micros))
        if entry.saved_micros > 0:
            saved = micros_to_usd(entry.saved_micros)
            self.adder(self.cache_saved, entry.alias, entry.caller.team_name)(saved)
