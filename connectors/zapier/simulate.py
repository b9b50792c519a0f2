"""`hub simulate zapier`: what the Zapier integration sends a running hub: the auth test
(GET /zapier/me) and the Ask LLM action (POST /zapier/actions/ask), with a team key in
X-API-Key."""

from __future__ import annotations

import asyncio
import json

import click
import httpx

from hub.cli.simulate import TIMEOUT_S, endpoint, require_ok, sent, show


@click.command("zapier")
@click.option("--url", required=True, help="The running hub, e.g. http://127.0.0.1:8080.")
@click.option("--key", envvar="HUB_API_KEY", required=True, help="A team key (or HUB_API_KEY).")
@click.option("--text", default="Hello from hub simulate!", show_default=True, help="The prompt.")
@click.option("--model", help="Model alias (default: the hub's).")
def simulate_zapier(url: str, key: str, text: str, model: str | None) -> None:
    """Authenticate as Zapier does, then run the Ask LLM action."""
    me = endpoint(url, "/zapier/me")
    ask = endpoint(url, "/zapier/actions/ask")
    body: dict[str, object] = {"prompt": text}
    if model:
        body["model"] = model
    asyncio.run(_send(me, ask, key, json.dumps(body).encode()))


async def _send(me: str, ask: str, key: str, body: bytes) -> None:
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
        sent("GET", me, "Zapier's authentication test")
        response = await client.get(me, headers=headers)
        show(response)
        require_ok(response)
        sent("POST", ask, "the Ask LLM action")
        response = await client.post(ask, content=body, headers=headers)
        show(response)
        require_ok(response)
