"""`hub doctor`'s checks: is each part the configuration names really there and usable?

Each check returns a `Check` (name, ok, detail with the fix when not ok) and never raises: a
failing part is a row of the report, not a crash. Connectors add their own checks through an
optional plugin hook, `doctor_checks(hub)`.
"""

from __future__ import annotations

import stat
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hub.config import ProviderSettings, Settings
from hub.service import Hub
from hub.store.engine import database_companions
from hub.store.migrate import schema_problem

TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Check:
    check: str
    ok: bool
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail}


async def timed(name: str, probe: Callable[[], Awaitable[str]], *, fix: str = "") -> Check:
    """Run one probe; its text is the detail, an exception the failure (with the fix)."""
    started = time.perf_counter()
    try:
        detail = await probe()
    except Exception as exc:  # noqa: BLE001 - a failing part is a row, not a crash
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Check(name, False, f"{reason}{f'; fix: {fix}' if fix else ''}")
    return Check(name, True, f"{detail} ({(time.perf_counter() - started) * 1000:.0f} ms)")


async def core_checks(hub: Hub) -> list[Check]:
    settings = hub.settings
    checks = [await _database(hub), *await _schema(hub)]
    if settings.redis_url:
        checks.append(await _redis(settings.redis_url))
    for provider in settings.providers.values():
        checks.append(await _provider(hub.http, provider))
    checks.append(await _public_url(hub.http, settings.server.public_url))
    checks += file_modes(settings)
    return checks


async def _database(hub: Hub) -> Check:
    async def probe() -> str:
        async with hub.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return f"reachable: {make_url(hub.settings.database_url).render_as_string()}"

    return await timed(
        "database", probe, fix="check [database] url (or DATABASE_URL) and that the server runs"
    )


async def _schema(hub: Hub) -> list[Check]:
    try:
        problem = await schema_problem(hub.engine)
    except Exception:  # noqa: BLE001 - unreachable: the database row already says why
        return []
    if problem is None:
        return [Check("database schema", True, "migrated to the revision this hub expects")]
    return [Check("database schema", False, problem)]


async def _redis(url: str) -> Check:
    async def probe() -> str:
        from redis.asyncio import Redis

        client = Redis.from_url(url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S)
        try:
            await client.ping()
        finally:
            await client.aclose()
        return "reachable"

    return await timed("redis", probe, fix="check [redis] url (or REDIS_URL) and that Redis runs")


async def _provider(http: httpx.AsyncClient, provider: ProviderSettings) -> Check:
    name = f"provider {provider.name}"
    if provider.type == "demo":
        return Check(name, True, "built in (canned answers)")

    async def probe() -> str:
        if provider.type == "anthropic":
            url = f"{provider.base_url}/v1/models"
            headers = {
                "x-api-key": provider.api_key,
                "anthropic-version": provider.anthropic_version,
            }
        else:
            url = f"{provider.base_url}/models"
            headers = {"Authorization": f"Bearer {provider.api_key}"} if provider.api_key else {}
        response = await http.get(url, headers=headers, timeout=TIMEOUT_S)
        if response.status_code in (401, 403):
            raise RuntimeError(f"the provider refused the API key ({response.status_code})")
        if response.status_code >= 400:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return f"answered GET {url}"

    return await timed(name, probe, fix=f"check [providers.{provider.name}] base_url and api_key")


async def _public_url(http: httpx.AsyncClient, public_url: str) -> Check:
    if not public_url:
        return Check(
            "public url", True, "not set: printed links are relative ([server] public_url)"
        )

    async def probe() -> str:
        response = await http.get(f"{public_url}/healthz", timeout=TIMEOUT_S)
        if response.status_code != 200:
            raise RuntimeError(f"GET {public_url}/healthz answered {response.status_code}")
        return f"{public_url}/healthz answers from here"

    return await timed(
        "public url",
        probe,
        fix="check [server] public_url, DNS and the proxy in front of the hub (is it serving?)",
    )


def file_modes(settings: Settings) -> list[Check]:
    """Secrets on disk readable by the owner only."""
    paths: list[tuple[str, Path, int]] = []
    if settings.security.secret_key_file is not None:
        paths.append(("secret key file", settings.security.secret_key_file, 0o600))
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        wal, shm = database_companions(database)
        paths += [
            ("database file", database, 0o600),
            ("database WAL file", wal, 0o600),
            ("database shared-memory file", shm, 0o600),
            ("database folder", database.parent, 0o700),
        ]
    checks = []
    for label, path, wanted in paths:
        if not path.exists():
            checks.append(Check(f"file mode: {label}", True, f"{path} does not exist yet"))
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        loose = mode & 0o077
        detail = f"{path} is {mode:o}"
        if loose:
            checks.append(
                Check(f"file mode: {label}", False, f"{detail}; fix: chmod {wanted:o} {path}")
            )
        else:
            checks.append(Check(f"file mode: {label}", True, detail))
    return checks


def render_table(checks: Sequence[Check]) -> str:
    width = max(len(c.check) for c in checks)
    lines = [f"{'':2}{'check':<{width}}  detail"]
    lines += [f"{'✓' if c.ok else '✗'} {c.check:<{width}}  {c.detail}" for c in checks]
    return "\n".join(lines)
