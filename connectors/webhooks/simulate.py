"""`hub simulate webhook`: a request to a running hub's /hooks/<id>, signed with the hook's
secret by the Standard Webhooks scheme (webhook-id, webhook-timestamp, webhook-signature), as
any sender's library signs it. Without --secret the hook's secret is read from the database
this config names, so an operator on the hub's machine needs nothing but the hook id."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import click
from standardwebhooks import Webhook

from hub.cli.context import CliContext
from hub.cli.simulate import endpoint, post, require_ok, sent, show
from hub.inbound_hooks import InboundHooks
from hub.service import Hub


@click.command("webhook")
@click.option("--url", required=True, help="The running hub, e.g. http://127.0.0.1:8080.")
@click.option("--hook", "hook_id", required=True, help="The hook's id (hk_...).")
@click.option("--secret", help="The hook's secret (whsec_...); default: read from the database.")
@click.option("--text", default="Hello from hub simulate!", show_default=True, help="The input.")
@click.option("--model", help="Model alias (default: the hook's, else the hub's).")
@click.option("--stream", is_flag=True, help="Ask for Server-Sent Events.")
@click.pass_obj
def simulate_webhook(
    ctx: CliContext,
    url: str,
    hook_id: str,
    secret: str | None,
    text: str,
    model: str | None,
    stream: bool,
) -> None:
    """POST a signed webhook to /hooks/HOOK and print the answer."""
    target = endpoint(url, f"/hooks/{hook_id}")
    if secret is None:

        async def read(hub: Hub) -> str:
            hooks = InboundHooks.for_hub(hub)
            return hub.secrets.decrypt((await hooks.get(hook_id)).secret_encrypted)

        secret = ctx.run(read)
    body: dict[str, object] = {"input": text, "metadata": {"simulated": True}}
    if model:
        body["model"] = model
    asyncio.run(_send(target, secret, json.dumps(body).encode(), stream=stream))


async def _send(target: str, secret: str, body: bytes, *, stream: bool) -> None:
    message_id = f"msg_{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    try:
        signature = Webhook(secret).sign(message_id, now, body.decode())
    except Exception as exc:  # noqa: BLE001 - the library raises plain errors on a bad secret
        raise click.BadParameter(f"not a webhook secret ({exc})", param_hint="'--secret'") from exc
    headers = {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    if stream:
        headers["Accept"] = "text/event-stream"
    sent("POST", target, f"signed webhook {message_id}")
    response = await post(target, body=body, headers=headers)
    show(response)
    require_ok(response, expected=(200, 202))
