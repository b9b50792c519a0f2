"""`hub serve`, `hub migrate` and `hub bootstrap-demo`."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path

import click
from aiohttp import web

from hub.cli.boundary import CliFailure
from hub.cli.context import CliContext, pass_hub
from hub.config import ConfigError
from hub.logs import configure_logging
from hub.observability.endpoint import metrics_app
from hub.scheduler import build_scheduler
from hub.service import Hub
from hub.serving import HubRunner
from hub.store.migrate import head_revision, schema_problem, upgrade
from hub.store.secretbox import SecretBoxError
from hub.web import create_app

DEMO_KEY_FILE = Path("var/demo-key")
# gen 0, 1, 2 (hub serve, after gc.freeze): see serve's comment.
GC_THRESHOLDS = (10_000, 20, 20)
log = logging.getLogger("hub.serve")


@click.command()
@click.option("--host", help="Interface to listen on (default: [server] host).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: [server] port).")
@click.option(
    "--bootstrap-demo",
    "demo",
    is_flag=True,
    help="On an empty database, first create team `demo` and a key in var/demo-key "
    "(what `make run` does, in the serving process).",
)
@click.pass_obj
def serve(ctx: CliContext, host: str | None, port: int | None, demo: bool) -> None:
    """Serve the hub's HTTP API and connectors."""
    try:
        settings = ctx.settings
        configure_logging(settings.logging.level)
        hub = Hub.open(settings)
    except (ConfigError, SecretBoxError) as exc:
        raise CliFailure(str(exc)) from exc
    with asyncio.Runner(loop_factory=loop_factory(settings.server.event_loop)) as runner:
        runner.run(
            _serve(
                hub,
                settings.server.host if host is None else host,
                settings.server.port if port is None else port,
                demo=demo,
            )
        )


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop for `uvloop`, and for `auto` when it is installed; None: asyncio's default."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise CliFailure(
                '[server] event_loop = "uvloop" but uvloop is not installed: '
                'pip install uvloop, or use "auto"'
            ) from None
        return None
    return uvloop.new_event_loop


async def _serve(hub: Hub, host: str, port: int, *, demo: bool = False) -> None:
    await _schema_ready(hub)
    if demo and (created := await ensure_demo(hub)):
        click.echo(created)
    try:
        await hub.prices.ready()  # a deployment without a price is refused here, by name
    except ConfigError as exc:
        await hub.close()
        raise CliFailure(str(exc)) from exc
    for name, state in (await hub.readiness()).items():
        if state != "ok":
            # Loud on purpose: a hub without its shared limit store refuses chat requests
            # rather than quietly enforcing per-process limits.
            log.error("start-up check failed: %s: %s", name, state)
            click.echo(f"WARNING: {name} is not ready: {state}. /readyz will fail.", err=True)
    # Before serving: this process's lease, and the requests of a predecessor that died.
    await hub.settlements.replay()  # journaled settlements of stopped processes
    await hub.instances.join("web")
    app = create_app(hub, close_hub=True)
    runner = HubRunner(app, hub.settings.server)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise CliFailure(_bind_failure(exc, host, port)) from exc
    metrics_runner: web.AppRunner | None = None
    if (address := hub.settings.metrics.listen_address) is not None:
        # /metrics alone, without a token, on an address only the scraper reaches.
        metrics_runner = web.AppRunner(metrics_app(hub), access_log=None)
        await metrics_runner.setup()
        await web.TCPSite(metrics_runner, *address).start()
    scheduler = build_scheduler(hub)
    scheduler.start()
    # Everything imported and built at start-up lives as long as the process: out of the
    # collector's sight, so collections on the request path stay short.
    gc.collect()
    gc.freeze()
    # A request is some 50 container objects alive while it runs: at concurrency 16 that
    # passes the default young-generation threshold (700) by itself, and the collector ran
    # every dozen requests over objects still in use, promoting them for a gen-1 pass every
    # ~120 (16-29 us of CPU per request, about 3%). A request leaves no cyclic garbage, so
    # a higher threshold only defers what is rare; it bounds the young generation still.
    gc.set_threshold(*GC_THRESHOLDS)
    served = runner.addresses[0][1] if runner.addresses else port  # the real one for --port 0
    base = hub.settings.server.public_url or f"http://{_reachable(host)}:{served}"
    click.echo(f"UniLLM Hub listening on {base} (models: {', '.join(hub.aliases)})")
    if DEMO_KEY_FILE.exists():
        click.echo(try_it(base, hub.settings.default_alias or "demo"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        if metrics_runner is not None:
            await metrics_runner.cleanup()
        await runner.cleanup()


async def _schema_ready(hub: Hub) -> None:
    """Serve only a database whose schema this code expects: migrate it first when
    `[database] migrate_on_start` says so (the default on SQLite), else refuse."""
    problem = await schema_problem(hub.engine)
    if problem is None:
        return
    if hub.settings.database.migrates_on_start and "run `hub migrate`" in problem:
        await upgrade(hub.engine)
        click.echo(f"Migrated the database to revision {head_revision()}.")
        return
    await hub.close()
    raise CliFailure(problem)


def _bind_failure(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use: stop the other process, or choose "
            "another port with --port or [server] port"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"this machine has no address {host}: listen on 127.0.0.1, 0.0.0.0 or one of its "
            "own addresses (--host or [server] host)"
        )
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port}: ports below 1024 need privileges"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve --host {host}: {exc.strerror}"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


@click.command()
@click.pass_obj
def migrate(ctx: CliContext) -> None:
    """Apply database migrations."""

    async def work(hub: Hub) -> None:
        await upgrade(hub.engine)

    ctx.run(work, check_schema=False)
    click.echo("Database is up to date.")


@click.command("bootstrap-demo")
@pass_hub
async def bootstrap_demo(hub: Hub) -> None:
    """On an empty database: create team `demo` and a key in var/demo-key."""
    if created := await ensure_demo(hub):
        click.echo(created)
    elif DEMO_KEY_FILE.exists():
        click.echo(f"Demo key: in {DEMO_KEY_FILE} (`hub serve` prints how to try it).")


async def ensure_demo(hub: Hub) -> str | None:
    """Team `demo` and its key in var/demo-key (mode 600), when the database has no team yet;
    the sentence to print when it did that, else None."""
    if await hub.teams.list():
        return None
    team = await hub.teams.create("demo", monthly_budget_micros=5_000_000)
    issued = await hub.keys.create(team, name="demo")
    DEMO_KEY_FILE.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    DEMO_KEY_FILE.write_text(issued.key + "\n")
    os.chmod(DEMO_KEY_FILE, 0o600)
    return f"Created team 'demo' and its key, saved to {DEMO_KEY_FILE} (mode 600)."


def _reachable(host: str) -> str:
    """Where a client on this machine reaches a server bound to `host`."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def try_it(base: str, alias: str) -> str:
    """The curl line for the demo key (its path, never the key itself)."""
    return (
        f"Try it: curl -s {base}/v1/chat/completions "
        f'-H "Authorization: Bearer $(cat {DEMO_KEY_FILE})" '
        "-H 'Content-Type: application/json' "
        f'-d \'{{"model": "{alias}", "messages": [{{"role": "user", "content": "Hello!"}}]}}\''
    )
