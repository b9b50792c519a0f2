"""`hub worker`: only the background delivery jobs (the Procfile `worker` process)."""

from __future__ import annotations

import click

from hub.cli.context import pass_hub
from hub.events.worker import run_worker
from hub.logs import configure_logging
from hub.service import Hub


@click.command()
@pass_hub
async def worker(hub: Hub) -> None:
    """Deliver outbound events, webhook callbacks and usage to Stripe, and issue the monthly
    invoices, until stopped (SIGINT/SIGTERM)."""
    configure_logging(hub.settings.logging.level)
    await hub.settlements.replay()  # journaled settlements of stopped processes
    await hub.instances.join("worker")  # a live instance recovers the holds of dead ones
    await run_worker(hub, ready=lambda: click.echo("UniLLM Hub worker: delivering events."))
