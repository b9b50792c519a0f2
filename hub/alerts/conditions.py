"""What each kind of alert rule looks at, and which subjects are in trouble right now.

Every condition reads shared state (the database), so whichever process evaluates sees the
whole deployment: upstream attempts of every process (`upstream_minutes`), the ledger's
latencies, budget counters, platform links and the outbox.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.alerts import AlertRule
from hub.ledger.periods import period_start
from hub.observability.health import DOWN, combined_state, deployment_health, error_counts
from hub.observability.links import link_states
from hub.store.event_tables import EventDelivery, OutboxEvent
from hub.store.ledger_tables import BudgetCounter, Quota, Team, UsageRecord

LATENCY_SAMPLE = 5000  # p95 over at most this many of the newest requests in the window


@dataclass(frozen=True, slots=True)
class Finding:
    subject: str  # what is in trouble: a provider, a deployment, a team's budget, a platform
    summary: str  # one sentence for people


def _matches(rule: AlertRule, deployment: str) -> bool:
    if rule.deployment is not None:
        return deployment == rule.deployment
    if rule.provider is not None:
        return deployment.split("/", 1)[0] == rule.provider
    return True


async def findings(
    session: AsyncSession, rule: AlertRule, *, now: datetime, circuits: Mapping[str, str]
) -> list[Finding]:
    """`circuits`: each configured deployment's circuit state, from hub.deployment_status()."""
    kind = rule.kind
    if kind == "provider_error_rate":
        return await _error_rate(session, rule, now)
    if kind == "latency_p95":
        return await _latency(session, rule, now)
    if kind == "deployment_down":
        return await _down(session, rule, now, circuits)
    if kind == "budget":
        return await _budget(session, rule, now)
    if kind == "connection_lost":
        return await _connections(session, rule, now)
    return await _backlog(session, rule)


async def _error_rate(session: AsyncSession, rule: AlertRule, now: datetime) -> list[Finding]:
    window = timedelta(seconds=rule.window_s)
    per_subject: dict[str, list[int]] = {}
    for deployment, (attempts, failures) in (
        await error_counts(session, since=now - window)
    ).items():
        if not _matches(rule, deployment):
            continue
        subject = rule.deployment or deployment.split("/", 1)[0]
        totals = per_subject.setdefault(subject, [0, 0])
        totals[0] += attempts
        totals[1] += failures
    found = []
    for subject, (attempts, failures) in sorted(per_subject.items()):
        if attempts >= rule.min_requests and failures / attempts >= rule.limit:
            found.append(
                Finding(
                    subject,
                    f"{failures} of {attempts} upstream attempts to '{subject}' failed in the "
                    f"last {_minutes(rule.window_s)} ({failures / attempts:.0%}, alert at "
                    f"{rule.limit:.0%}).",
                )
            )
    return found


async def _latency(session: AsyncSession, rule: AlertRule, now: datetime) -> list[Finding]:
    since = now - timedelta(seconds=rule.window_s)
    rows = await session.execute(
        select(UsageRecord.deployment, UsageRecord.latency_ms, UsageRecord.created_at)
        .order_by(UsageRecord.id.desc())
        .limit(LATENCY_SAMPLE)
    )
    latencies: dict[str, list[int]] = {}
    for deployment, latency, created in rows:
        if created < since or deployment is None or not _matches(rule, deployment):
            continue
        subject = rule.deployment or rule.provider or "all"
        latencies.setdefault(subject, []).append(latency)
    found = []
    for subject, values in sorted(latencies.items()):
        if len(values) < rule.min_requests:
            continue
        p95 = _percentile(values, 0.95) / 1000
        if p95 >= rule.limit:
            found.append(
                Finding(
                    subject,
                    f"p95 latency of '{subject}' is {p95:.1f} s over the last "
                    f"{_minutes(rule.window_s)} ({len(values)} requests; alert at "
                    f"{rule.limit:g} s).",
                )
            )
    return found


def _percentile(values: list[int], share: float) -> float:
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(share * len(ordered)) - 1)])


async def _down(
    session: AsyncSession, rule: AlertRule, now: datetime, circuits: Mapping[str, str]
) -> list[Finding]:
    found = []
    for health in await deployment_health(session, deployments=circuits, now=now):
        circuit = circuits.get(health.deployment, "closed")
        if combined_state(health.state, circuit) != DOWN or not _matches(rule, health.deployment):
            continue
        why = (
            "its circuit is open"
            if circuit == "open"
            else f"its last upstream attempts all failed ({health.failures} of "
            f"{health.attempts} in the last five minutes)"
        )
        found.append(
            Finding(health.deployment, f"Deployment '{health.deployment}' is down: {why}.")
        )
    return found


async def _budget(session: AsyncSession, rule: AlertRule, now: datetime) -> list[Finding]:
    query = (
        select(Team.id, Team.name, Quota.window, Quota.cost_limit_micros, Quota.token_limit)
        .join(Team, Team.id == Quota.scope_id)
        .where(Quota.scope == "team")
    )
    if rule.team is not None:
        query = query.where(Team.name == rule.team)
    found = []
    for team_id, name, window, cost_limit, token_limit in await session.execute(query):
        start = period_start(window, now)
        counter = await session.scalar(
            select(BudgetCounter).where(
                BudgetCounter.scope == "team",
                BudgetCounter.scope_id == team_id,
                BudgetCounter.window == window,
                BudgetCounter.period_start == start,
            )
        )
        if counter is None:
            continue
        checks = (
            ("budget", cost_limit, counter.cost_spent_micros),
            ("token quota", token_limit, counter.tokens_spent),
        )
        for what, limit, used in checks:
            if not limit:
                continue
            percent = used * 100 / limit
            if percent >= rule.limit:
                found.append(
                    Finding(
                        # The team's name first: delivery finds the team concerned by it.
                        f"{name}:{window}:{what}:{start.isoformat()}",
                        f"Team '{name}' has used {percent:.0f}% of its {window}ly {what} "
                        f"(alert at {rule.limit:g}%).".replace("dayly", "daily"),
                    )
                )
    return found


async def _connections(session: AsyncSession, rule: AlertRule, now: datetime) -> list[Finding]:
    found = []
    for link in await link_states(session, now=now):
        if rule.platform is not None and link.platform != rule.platform:
            continue
        if link.connected or link.lost_since is None:
            continue
        down_for = (now - link.lost_since).total_seconds()
        if down_for >= rule.limit:
            found.append(
                Finding(
                    link.platform,
                    f"The {_platform(link.platform)} connection has been down for "
                    f"{_minutes(int(down_for))} (since {link.lost_since:%H:%M} UTC).",
                )
            )
    return found


async def _backlog(session: AsyncSession, rule: AlertRule) -> list[Finding]:
    events = await session.scalar(select(func.count()).where(OutboxEvent.fanned_out.is_(False)))
    deliveries = await session.scalar(select(func.count()).where(EventDelivery.status == "pending"))
    waiting = int(events or 0) + int(deliveries or 0)
    if waiting < rule.limit:
        return []
    return [
        Finding(
            "outbox",
            f"{waiting} events and deliveries are waiting in the outbox (alert at {rule.limit:g}).",
        )
    ]


def _platform(name: str) -> str:
    return {"slack": "Slack Socket Mode", "discord": "Discord gateway"}.get(name, name)


def _minutes(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    return f"{seconds // 60} min"
