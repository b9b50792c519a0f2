"""Gauges read from the database when /metrics is scraped: the same answer from every
process, and no bookkeeping on the request path.

    unillm_team_budget_remaining_usd / _limit_usd     {team, window}
    unillm_team_tokens_remaining / _limit             {team, window}
    unillm_team_budget_reset_hours                    {team, window}
    unillm_deployment_state                           {deployment} 0 healthy, 1 degraded, 2 down
    unillm_deployment_circuit_open                    {deployment} the router's circuit is open
    unillm_deployment_error_ratio                     {deployment} over the last five minutes
    unillm_platform_connected                         {platform} Slack Socket Mode, Discord gateway
    unillm_platform_heartbeat_latency_seconds         {platform}
    unillm_outbox_depth                               {stage} events not fanned out, deliveries due
    unillm_outbox_oldest_pending_age_seconds
    unillm_event_delivery_failures                    {state} retrying, gave_up (last 24 h)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.ledger.money import micros_to_usd
from hub.ledger.periods import period_start, resets_at
from hub.observability.health import combined_state, deployment_health
from hub.observability.links import link_states
from hub.store.event_tables import EventDelivery, OutboxEvent
from hub.store.ledger_tables import BudgetCounter, Quota, Team

FAILURE_MEMORY = timedelta(hours=24)


@dataclass
class Snapshot(Collector):
    """Gauge families computed once per scrape; a collector for the scrape's registry."""

    families: list[Metric] = field(default_factory=list)

    def collect(self) -> Iterator[Metric]:
        yield from self.families


async def snapshot(
    session: AsyncSession, *, now: datetime, circuits: Mapping[str, str]
) -> Snapshot:
    """`circuits`: each configured deployment's circuit state (closed, open, half_open), as
    the router shares it across processes (hub.deployment_status())."""
    found = Snapshot()
    found.families += await _budgets(session, now)
    found.families += await _deployments(session, now, circuits)
    found.families += await _links(session, now)
    found.families += await _outbox(session, now)
    return found


async def _budgets(session: AsyncSession, now: datetime) -> list[Metric]:
    labels = ["team", "window"]
    remaining = GaugeMetricFamily(
        "unillm_team_budget_remaining_usd", "Budget left this period, in USD.", labels=labels
    )
    limit = GaugeMetricFamily(
        "unillm_team_budget_limit_usd", "The team's budget for the period, in USD.", labels=labels
    )
    tokens_left = GaugeMetricFamily(
        "unillm_team_tokens_remaining", "Tokens left of the quota this period.", labels=labels
    )
    tokens_limit = GaugeMetricFamily(
        "unillm_team_tokens_limit", "The team's token quota for the period.", labels=labels
    )
    reset = GaugeMetricFamily(
        "unillm_team_budget_reset_hours", "Hours until the period resets.", labels=labels
    )
    rows = await session.execute(
        select(Team.name, Quota.window, Quota.cost_limit_micros, Quota.token_limit)
        .join(Team, Team.id == Quota.scope_id)
        .where(Quota.scope == "team")
    )
    quotas = list(rows)
    counters: dict[tuple[str, str], tuple[int, int]] = {}
    for window in {q[1] for q in quotas}:
        spent = await session.execute(
            select(
                Team.name,
                BudgetCounter.cost_spent_micros + BudgetCounter.cost_reserved_micros,
                BudgetCounter.tokens_spent + BudgetCounter.tokens_reserved,
            )
            .join(Team, Team.id == BudgetCounter.scope_id)
            .where(
                BudgetCounter.scope == "team",
                BudgetCounter.window == window,
                BudgetCounter.period_start == period_start(window, now),
            )
        )
        for name, cost, tokens in spent:
            counters[(name, window)] = (int(cost or 0), int(tokens or 0))
    for name, window, cost_limit, token_limit in quotas:
        cost_used, tokens_used = counters.get((name, window), (0, 0))
        values = [name, window]
        if cost_limit is not None:
            limit.add_metric(values, micros_to_usd(cost_limit))
            remaining.add_metric(values, micros_to_usd(max(0, cost_limit - cost_used)))
        if token_limit is not None:
            tokens_limit.add_metric(values, token_limit)
            tokens_left.add_metric(values, max(0, token_limit - tokens_used))
        reset.add_metric(values, (resets_at(window, now) - now).total_seconds() / 3600)
    return [remaining, limit, tokens_left, tokens_limit, reset]


async def _deployments(
    session: AsyncSession, now: datetime, circuits: Mapping[str, str]
) -> list[Metric]:
    state = GaugeMetricFamily(
        "unillm_deployment_state",
        "Deployment health: 0 healthy, 1 degraded, 2 down (open circuit, or recent attempts).",
        labels=["deployment"],
    )
    circuit_open = GaugeMetricFamily(
        "unillm_deployment_circuit_open",
        "1 while the deployment's circuit is open (the router skips it), else 0.",
        labels=["deployment"],
    )
    ratio = GaugeMetricFamily(
        "unillm_deployment_error_ratio",
        "Share of the deployment's upstream attempts that failed in the last five minutes.",
        labels=["deployment"],
    )
    for health in await deployment_health(session, deployments=circuits, now=now):
        circuit = circuits.get(health.deployment, "closed")
        state.add_metric([health.deployment], combined_state(health.state, circuit))
        ratio.add_metric([health.deployment], health.error_rate)
        circuit_open.add_metric([health.deployment], 1 if circuit == "open" else 0)
    return [state, circuit_open, ratio]


async def _links(session: AsyncSession, now: datetime) -> list[Metric]:
    connected = GaugeMetricFamily(
        "unillm_platform_connected",
        "1 while the Slack Socket Mode or Discord gateway connection is up.",
        labels=["platform"],
    )
    latency = GaugeMetricFamily(
        "unillm_platform_heartbeat_latency_seconds",
        "Heartbeat round trip of the platform connection (Discord's gateway).",
        labels=["platform"],
    )
    for link in await link_states(session, now=now):
        connected.add_metric([link.platform], 1 if link.connected else 0)
        if link.latency_s is not None:
            latency.add_metric([link.platform], link.latency_s)
    return [connected, latency]


async def _outbox(session: AsyncSession, now: datetime) -> list[Metric]:
    depth = GaugeMetricFamily(
        "unillm_outbox_depth",
        "Events waiting: not yet fanned out to subscriptions, and deliveries pending.",
        labels=["stage"],
    )
    events, oldest_event = (
        await session.execute(
            select(func.count(), func.min(OutboxEvent.created_at)).where(
                OutboxEvent.fanned_out.is_(False)
            )
        )
    ).one()
    deliveries, oldest_delivery = (
        await session.execute(
            select(func.count(), func.min(EventDelivery.created_at)).where(
                EventDelivery.status == "pending"
            )
        )
    ).one()
    depth.add_metric(["outbox"], events)
    depth.add_metric(["delivery"], deliveries)
    oldest = min((t for t in (oldest_event, oldest_delivery) if t is not None), default=None)
    age = GaugeMetricFamily(
        "unillm_outbox_oldest_pending_age_seconds",
        "Age of the oldest event or delivery still waiting (0 when none is).",
        value=(now - oldest).total_seconds() if oldest is not None else 0.0,
    )
    failures = GaugeMetricFamily(
        "unillm_event_delivery_failures",
        "Event deliveries that failed: still retrying, or given up in the last 24 hours.",
        labels=["state"],
    )
    retrying = await session.scalar(
        select(func.count()).where(EventDelivery.status == "pending", EventDelivery.attempts > 0)
    )
    gave_up = await session.scalar(
        select(func.count()).where(
            EventDelivery.status == "failed", EventDelivery.created_at >= now - FAILURE_MEMORY
        )
    )
    failures.add_metric(["retrying"], retrying or 0)
    failures.add_metric(["gave_up"], gave_up or 0)
    return [depth, age, failures]
