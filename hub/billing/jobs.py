"""Billing's scheduled work: the monthly invoices (00:10 UTC on the 1st, once across all
processes) and the usage export to the payment platform (every few seconds)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

if TYPE_CHECKING:
    from hub.service import Hub

EXPORT_TICK_S = 5.0


def add_invoice_job(scheduler: AsyncIOScheduler, hub: Hub) -> None:
    scheduler.add_job(
        hub.billing.monthly_invoices,
        "cron",
        day=1,
        hour=0,
        minute=10,
        id="monthly-invoices",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=6 * 3600,  # a process started late on the 1st still runs it
    )


def add_export_job(scheduler: AsyncIOScheduler, hub: Hub) -> None:
    scheduler.add_job(
        hub.billing.export_usage,
        "interval",
        seconds=EXPORT_TICK_S,
        id="export-usage",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
