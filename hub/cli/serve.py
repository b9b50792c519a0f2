"""`hub serve`, `hub migrate` and `hub bootstrap-demo`."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import click
from aiohttp import web

from hub.cli.context import CliContext, fail, pass_hub
from hub.config import ConfigError
from hub.logs import configure_logging
from hub.scheduler import build_scheduler
from hub.service import Hub
from hub.store.migrate import upgrade
from hub.store.secretbox import SecretBoxError
from hub.web import create_app

DEMO_KEY_FILE = Path("var/demo-key")
log = logging.getLogger("hub.serve")


@click.command()
@click.option("--host", help="Interface to listen on (default: [server] host).")
@click.option("--port", type=int, help="Port (default: [server] port).")
@click.pass_obj
def serve(ctx: CliContext, host: str | None, port: int | None) -> None:
    """Serve the hub's HTTP API and connectors."""
    try:
        settings = ctx.settings
        configure_logging(settings.logging.level)
        hub = Hub.open(settings)
    except (ConfigError, SecretBoxError) as exc:
        fail(str(exc))
        return
    asyncio.run(_serve(hub, host or settings.server.host, port or settings.server.port))


async def _serve(hub: Hub, host: str, port: int) -> None:
    for name, state in (await hub.readiness()).items():
        if state != "ok":
            # Loud on purpose: a hub without its shared limit store refuses chat requests
            # rather than quietly enforcing per-process limits.
            log.error("start-up check failed: %s: %s", name, state)
            click.echo(f"WARNING: {name} is not ready: {state}. /readyz will fail.", err=True)
    app = create_app(hub, close_hub=True)
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    scheduler = build_scheduler(hub)
    scheduler.start()
    click.echo(f"UniLLM Hub listening on http://{host}:{port} (models: {', '.join(hub.aliases)})")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        await runner.cleanup()


@click.command()
@pass_hub
async def migrate(hub: Hub) -> None:
    """Apply database migrations."""
    await upgrade(hub.engine)
    click.echo("Database is up to date.")


@click.command("bootstrap-demo")
@pass_hub
async def bootstrap_demo(hub: Hub) -> None:
    """On an empty database: create team `demo` and a key in var/demo-key."""
    if not await hub.teams.list():
        team = await hub.teams.create("demo", monthly_budget_micros=5_000_000)
        issued = await hub.keys.create(team, name="demo")
        DEMO_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        DEMO_KEY_FILE.write_text(issued.key + "\n")
        os.chmod(DEMO_KEY_FILE, 0o600)
        click.echo(f"Created team 'demo' and its key, saved to {DEMO_KEY_FILE} (mode 600).")
    if not DEMO_KEY_FILE.exists():
        return
    demo_key = DEMO_KEY_FILE.read_text().strip()
    settings = hub.settings
    alias = settings.default_alias or "demo"
    click.echo(f"Demo key: {demo_key}")
    click.echo("Try it:")
    click.echo(
        f"  curl -s http://{settings.server.host}:{settings.server.port}/v1/chat/completions "
        f"-H \"Authorization: Bearer $(cat {DEMO_KEY_FILE})\" -H 'Content-Type: application/json' "
        f'-d \'{{"model": "{alias}", "messages": [{{"role": "user", "content": "Hello!"}}]}}\''
    )
