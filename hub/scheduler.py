"""Background jobs run inside `hub serve` (and the `worker` process) with APScheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from hub.alerts.evaluator import EVERY_S as ALERTS_EVERY_S
from hub.alerts.evaluator import AlertEvaluator
from hub.billing.jobs import add_export_job, add_invoice_job
from hub.events.worker import add_delivery_jobs
from hub.job_executor import StoppingExecutor
from hub.retention import prune_history
from hub.service import Hub
from hub.suggestion_reports import refresh_suggestions
from hub.weekly_report import add_weekly_report_job

STALE_RESERVATION = timedelta(hours=1)
DELIVERY_MEMORY = timedelta(days=7)
HEALTH_FLUSH_S = 5  # how stale another process's view of upstream failures may be


def build_scheduler(hub: Hub) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": StoppingExecutor()})
    scheduler.add_job(
        hub.budget.release_stale,
        "interval",
        minutes=5,
        args=[STALE_RESERVATION],
        id="release-stale-reservations",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        hub.deliveries.prune,
        "interval",
        hours=1,
        args=[DELIVERY_MEMORY],
        id="prune-deliveries",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        prune_history,
        "interval",
        hours=6,
        args=[hub.sessions, hub.clock],
        id="prune-history",
        coalesce=True,
        max_instances=1,
    )
    add_delivery_jobs(scheduler, hub)
    add_invoice_job(scheduler, hub)
    add_export_job(scheduler, hub)
    add_weekly_report_job(scheduler, hub)
    if hub.settings.reports.suggestions_cache_s:
        scheduler.add_job(
            refresh_suggestions,
            "interval",
            seconds=max(1, hub.settings.reports.suggestions_cache_s // 2),
            args=[hub],
            id="refresh-suggestions",
            coalesce=True,
            max_instances=1,
            # Also once at start: a page that finds no stored report makes it itself, which
            # takes seconds on a big ledger (the first view after an upgrade).
            next_run_time=datetime.now(UTC),
        )
    scheduler.add_job(
        AlertEvaluator(hub).tick,
        "interval",
        seconds=ALERTS_EVERY_S,
        id="evaluate-alerts",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        hub.observability.flush_health,
        "interval",
        seconds=HEALTH_FLUSH_S,
        id="flush-deployment-health",
        coalesce=True,
        max_instances=1,
    )
    return scheduler
