"""The delivery job on an APScheduler: inside `hub serve`, or alone in `hub worker`."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from hub.billing.jobs import add_export_job, add_invoice_job
from hub.events.dispatcher import Dispatcher
from hub.job_executor import StoppingExecutor

if TYPE_CHECKING:
    from hub.service import Hub

log = logging.getLogger("hub.events")
TICK_S = 2.0


def add_delivery_jobs(scheduler: AsyncIOScheduler, hub: Hub) -> Dispatcher:
    """Deliver due events every couple of seconds; one run at a time per process."""
    dispatcher = Dispatcher.for_hub(hub)
    scheduler.add_job(
        dispatcher.run_once,
        "interval",
        seconds=TICK_S,
        id="deliver-events",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    return dispatcher


async def run_worker(hub: Hub, *, ready: Callable[[], object] | None = None) -> None:
    """Run only the delivery jobs (events, usage export to Stripe, monthly invoices) until
    SIGINT or SIGTERM (the Procfile `worker` process). `ready` is called once the signals are
    handled, so whoever waits for it may stop the worker from then on."""
    scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": StoppingExecutor()})
    add_delivery_jobs(scheduler, hub)
    add_export_job(scheduler, hub)
    add_invoice_job(scheduler, hub)
    scheduler.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("delivery worker running")
    if ready is not None:
        ready()
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
