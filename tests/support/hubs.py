"""Building hubs for tests: settings from a small dict, a migrated database, a team and key,
and the aiohttp app served for real on 127.0.0.1."""

from __future__ import annotations

import atexit
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from hub.clock import Clock, FakeClock
from hub.config import Settings, parse_settings
from hub.connector import ConnectorPlugin
from hub.ledger.keys import IssuedKey
from hub.service import Hub
from hub.serving import HubRunner
from hub.store.engine import create_engine, database_companions
from hub.store.ledger_tables import Team
from hub.store.migrate import upgrade
from hub.web import create_app

SECRET_KEY = Fernet.generate_key().decode()


def settings_from(
    data: Mapping[str, Any], *, database_url: str, env: Mapping[str, str] | None = None
) -> Settings:
    raw = dict(data)
    raw.setdefault("database", {"url": database_url})
    raw.setdefault("security", {"secret_key": SECRET_KEY})
    raw.setdefault("router", {"backoff_base_s": 0.01, "backoff_max_s": 0.05})
    if "providers" not in raw:
        raw["providers"] = {"demo": {"type": "demo"}}
        raw["models"] = {
            "demo": {
                "deployments": [
                    {
                        "provider": "demo",
                        "model": "demo-1",
                        "input_usd_per_mtok": 0.5,
                        "output_usd_per_mtok": 1.5,
                    }
                ]
            }
        }
    return parse_settings(raw, env=dict(env or {}))


def connector_section(name: str, section: Mapping[str, Any], *, enabled: bool = True) -> Any:
    """`[connectors.<name>]` as the settings loader types it (enabled unless told)."""
    settings = settings_from(
        {"connectors": {name: {"enabled": enabled, **section}}}, database_url="sqlite://"
    )
    return settings.connectors[name]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningHub:
    hub: Hub
    clock: Clock
    team: Team
    key: IssuedKey
    base_url: str = ""
    runner: web.AppRunner | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=30, **kwargs)

    async def serve(self, plugins: list[ConnectorPlugin] | None = None) -> str:
        """Serve the given connectors (default: the OpenAI-compatible API) on 127.0.0.1."""
        from connectors.openai_api import plugin as openai_api

        app = create_app(self.hub, plugins=[openai_api] if plugins is None else plugins)
        self.runner = HubRunner(app, self.hub.settings.server)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        await self.hub.close()


async def start_hub(
    config: Mapping[str, Any],
    *,
    database_url: str,
    clock: Clock | None = None,
    team: str = "acme",
    monthly_budget_micros: int | None = None,
    monthly_token_quota: int | None = None,
    env: Mapping[str, str] | None = None,
) -> RunningHub:
    """A migrated hub with one team and one key (not yet serving HTTP)."""
    settings = settings_from(config, database_url=database_url, env=env)
    clock = clock or FakeClock()
    copied = await copy_migrated_template(settings.database_url)
    hub = Hub.open(settings, clock=clock)
    if not copied:
        await upgrade(hub.engine)
    created = await hub.teams.create(
        team,
        monthly_budget_micros=monthly_budget_micros,
        monthly_token_quota=monthly_token_quota,
    )
    issued = await hub.keys.create(created, name="test")
    return RunningHub(hub=hub, clock=clock, team=created, key=issued)


_template: Path | None = None


async def copy_migrated_template(database_url: str) -> bool:
    """A new SQLite database file as a copy of one migrated once per test process (the
    migrations cost a third of a CPU second per hub); False when `database_url` is not a
    SQLite file that does not exist yet, which the caller then migrates itself."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return False
    target = Path(url.database)
    if target.exists() or url.query:
        return False
    global _template
    if _template is None:
        folder = tempfile.mkdtemp(prefix="hub-template-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        built = Path(folder) / "hub.db"
        # The hub's own engine (its pragmas: WAL), as `upgrade(hub.engine)` would run it.
        engine = create_engine(f"sqlite+aiosqlite:///{built}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        _template = built
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    for source, copy in zip(
        (_template, *database_companions(_template)),
        (target, *database_companions(target)),
        strict=True,
    ):
        if source.exists():
            shutil.copyfile(source, copy)
            copy.chmod(0o600)
    return True


def openai_provider_config(base_url: str, *, api_key: str = "sk-upstream-secret") -> dict[str, Any]:
    return {"type": "openai", "base_url": base_url, "api_key": api_key}


def model_config(
    *deployments: tuple[str, str, float, float], vision: bool = False
) -> dict[str, Any]:
    return {
        "vision": vision,
        "deployments": [
            {"provider": p, "model": m, "input_usd_per_mtok": i, "output_usd_per_mtok": o}
            for p, m, i, o in deployments
        ],
    }


@asynccontextmanager
async def one_model_hub(
    upstream_url: str,
    database_url: str,
    *,
    usd_per_mtok: float = 1.0,
    monthly_budget_micros: int = 100_000,
) -> AsyncIterator[RunningHub]:
    """A hub with one OpenAI-compatible provider `up` at `upstream_url` and one alias `gpt`
    on its model `m` (`usd_per_mtok` each way), a team with `monthly_budget_micros`."""
    hub = await start_hub(
        {
            "providers": {"up": openai_provider_config(upstream_url)},
            "models": {"gpt": model_config(("up", "m", usd_per_mtok, usd_per_mtok))},
        },
        database_url=database_url,
        monthly_budget_micros=monthly_budget_micros,
    )
    try:
        yield hub
    finally:
        await hub.close()
