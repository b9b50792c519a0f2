"""A real hub for the Zapier app's tests: temp SQLite, demo provider, the Zapier API on
127.0.0.1, and a fast delivery loop. Prints one JSON line (base_url, keys), then serves
until killed. Run with the hub's venv python (HUB_PYTHON)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import tempfile

from aiohttp import web
from cryptography.fernet import Fernet

from connectors.zapier import plugin
from hub.config import parse_settings
from hub.events.dispatcher import Dispatcher
from hub.service import Hub
from hub.store.migrate import upgrade
from hub.web import create_app

DEMO_MODEL = {
    "deployments": [
        {
            "provider": "demo",
            "model": "demo-1",
            "input_usd_per_mtok": 0.5,
            "output_usd_per_mtok": 1.5,
        }
    ]
}


async def main() -> None:
    workdir = tempfile.mkdtemp(prefix="zapier-hub-")
    settings = parse_settings(
        {
            "database": {"url": f"sqlite:///{workdir}/hub.db"},
            "security": {"secret_key": Fernet.generate_key().decode()},
            "webhooks": {"allow_private_targets": True},  # the test's receiver is local
            "providers": {"demo": {"type": "demo"}},
            "models": {"demo": DEMO_MODEL},
        },
        env={},
    )
    hub = Hub.open(settings)
    await upgrade(hub.engine)
    team = await hub.teams.create("zapier-team")
    key = await hub.keys.create(team, name="zapier")
    # A tight token quota: two short answers cross 80% of it.
    tight = await hub.teams.create("tight-team", monthly_token_quota=100)
    tight_key = await hub.keys.create(tight, name="zapier")
    runner = web.AppRunner(create_app(hub, plugins=[plugin]), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(
        json.dumps(
            {
                "base_url": f"http://127.0.0.1:{port}",
                "api_key": key.key,
                "team": team.name,
                "tight_api_key": tight_key.key,
            }
        ),
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    dispatcher = Dispatcher.for_hub(hub)
    try:
        while not stop.is_set():
            await dispatcher.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.1)
    finally:
        await runner.cleanup()
        await hub.close()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
