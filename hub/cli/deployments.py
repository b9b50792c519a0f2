"""`hub deployments`: each deployment's circuit, in-flight requests, latency and error rate.

Health is measured by the processes that serve traffic, so the command asks a running hub
(`GET /admin/api/v1/deployments` with the operator key, at [server] host/port or `--url`).
When none answers it says so and lists the configured deployments with the circuit state
shared through Redis (or "unknown" without Redis).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click
import httpx

from hub.cli.context import CliContext, fail
from hub.config import ConfigError, Settings
from hub.service import Hub

PATH = "/admin/api/v1/deployments"


def _default_url(settings: Settings) -> str:
    host = settings.server.host
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{host}:{settings.server.port}"


async def _from_running_hub(url: str, key: str) -> list[dict[str, Any]] | None:
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(
                url.rstrip("/") + PATH, headers={"Authorization": f"Bearer {key}"}
            )
    except httpx.TransportError:
        return None
    if response.status_code in (401, 403):
        fail(f"the hub at {url} refused the operator key (HTTP {response.status_code})")
    if response.status_code == 404:
        fail(f"the hub at {url} serves no admin API ([connectors.admin_api] enabled = false?)")
    if response.status_code != 200:
        fail(f"the hub at {url} answered HTTP {response.status_code}")
    return list(response.json()["data"])


async def _from_shared_state(settings: Settings) -> list[dict[str, Any]]:
    hub = Hub.open(settings)
    try:
        await hub.start()  # reads the circuits opened by any process, through Redis
        rows = [status.as_json() for status in hub.deployment_status()]
    finally:
        await hub.close()
    if not settings.redis_url:
        for row in rows:
            row["circuit"]["state"] = "unknown"
    return rows


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _table(rows: list[dict[str, Any]]) -> None:
    click.echo(
        f"{'DEPLOYMENT':<36} {'ALIASES':<20} {'CIRCUIT':<30} {'IN-FLIGHT':>9} "
        f"{'TTFT MS':>8} {'LAT MS':>8} {'ERRORS':>14}  LAST ERROR"
    )
    for row in rows:
        circuit = row["circuit"]
        state = circuit["state"]
        if circuit["until"]:
            state += f" until {circuit['until'][11:19]}Z"
        errors = f"{row['error_rate']:.0%} of {row['window_requests']}"
        click.echo(
            f"{row['deployment']:<36} {','.join(row['aliases']):<20} {state:<30} "
            f"{row['in_flight']:>9} {_ms(row['ttft_ms']):>8} {_ms(row['latency_ms']):>8} "
            f"{errors:>14}  {row['last_error'] or circuit['reason'] or '-'}"
        )


@click.command()
@click.option("--url", help="A running hub's base URL (default: [server] host and port).")
@click.option("--json", "as_json", is_flag=True, help="The admin API's JSON, one object.")
@click.pass_obj
def deployments(ctx: CliContext, url: str | None, as_json: bool) -> None:
    """Health of every deployment: circuit state, in-flight, EWMA latency, error rate."""
    try:
        settings = ctx.settings
    except ConfigError as exc:
        fail(str(exc))
        return
    url = url or _default_url(settings)
    key = settings.security.operator_key
    rows = asyncio.run(_from_running_hub(url, key)) if key else None
    source = url
    if rows is None:
        source = "shared state" if settings.redis_url else "configuration"
        rows = asyncio.run(_from_shared_state(settings))
        why = "no operator key is configured" if not key else f"no hub answered at {url}"
        click.echo(
            f"note: {why}; showing circuits from {source} without live health "
            "(start `hub serve`, or pass --url).",
            err=True,
        )
    if as_json:
        click.echo(json.dumps({"source": source, "data": rows}))
    else:
        _table(rows)
