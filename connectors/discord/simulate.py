"""`hub simulate discord`: an interaction (PING, `/ask`, `/usage`) sent to a running hub's
/discord/interactions, signed with Ed25519 as Discord signs it (timestamp + body).

Only Discord holds the private key of an application's public key, so a signed interaction
needs a test key pair: `--new-key` prints one; configure the hub under test with its public
key and pass the private one here (`--private-key` or HUB_SIMULATE_DISCORD_KEY). Without a
key this sends what Discord sends when the URL is saved: a PING with a wrong signature,
which the hub must refuse with 401.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time

import click
from nacl.signing import SigningKey

from connectors.discord.config import DiscordConfig
from hub.cli.context import CliContext
from hub.cli.simulate import endpoint, post, require_ok, sent, show

PING = 1
APPLICATION_COMMAND = 2


@click.command("discord")
@click.option("--url", help="The running hub, e.g. http://127.0.0.1:8080.")
@click.option(
    "--command",
    type=click.Choice(["ping", "ask", "usage"]),
    default="ask",
    show_default=True,
)
@click.option("--text", default="Hello from hub simulate!", show_default=True, help="/ask prompt.")
@click.option("--guild", default="100000000000000001", show_default=True, help="Server id.")
@click.option("--channel", default="100000000000000002", show_default=True)
@click.option("--user", default="100000000000000003", show_default=True, help="Discord user id.")
@click.option(
    "--private-key",
    envvar="HUB_SIMULATE_DISCORD_KEY",
    help="Ed25519 private key (64 hex digits) whose public key the hub has as public_key.",
)
@click.option("--new-key", is_flag=True, help="Print a test key pair and exit.")
@click.pass_obj
def simulate_discord(
    ctx: CliContext,
    url: str | None,
    command: str,
    text: str,
    guild: str,
    channel: str,
    user: str,
    private_key: str | None,
    new_key: bool,
) -> None:
    """Send a signed interaction (or, without a key, a wrongly signed PING) to
    /discord/interactions."""
    if new_key:
        if url or private_key:
            raise click.UsageError("give --new-key alone")
        key = SigningKey.generate()
        click.echo(f"public_key  = {key.verify_key.encode().hex()}   # [connectors.discord]")
        click.echo(f"private key = {key.encode().hex()}   # --private-key, for hub simulate")
        return
    if not url:
        raise click.UsageError("give --url (the running hub), or --new-key")
    target = endpoint(url, "/discord/interactions")
    signer = _signing_key(private_key) if private_key else None
    application_id = DiscordConfig.model_validate(ctx.settings.connector("discord")).application_id
    payload = _interaction(
        command, text=text, guild=guild, channel=channel, user=user, app=application_id or "1"
    )
    asyncio.run(_send(target, payload, signer))


def _signing_key(text: str) -> SigningKey:
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise click.BadParameter(
            "must be 64 hex digits (the private key `--new-key` prints)",
            param_hint="'--private-key'",
        )
    return SigningKey(raw)


def _interaction(
    command: str, *, text: str, guild: str, channel: str, user: str, app: str
) -> dict[str, object]:
    interaction_id = str(int(time.time() * 1000) << 22 | secrets.randbelow(1 << 22))
    if command == "ping":
        return {"id": interaction_id, "type": PING, "application_id": app, "version": 1}
    options = [{"name": "prompt", "type": 3, "value": text}] if command == "ask" else []
    return {
        "id": interaction_id,
        "type": APPLICATION_COMMAND,
        "application_id": app,
        "token": "simulated-" + secrets.token_urlsafe(24),
        "version": 1,
        "guild_id": guild,
        "channel_id": channel,
        "channel": {"id": channel, "type": 0},
        "member": {"user": {"id": user, "username": "simulated"}, "permissions": "0"},
        "data": {"id": "1", "name": command, "type": 1, "options": options},
    }


async def _send(target: str, payload: dict[str, object], signer: SigningKey | None) -> None:
    body = json.dumps(payload).encode()
    timestamp = str(int(time.time()))
    if signer is None:
        signature = "00" * 64  # what Discord's own probe sends: a signature that is wrong
        what = "PING with a wrong signature, as Discord probes a new URL"
        body = json.dumps({"id": payload["id"], "type": PING, "application_id": "1"}).encode()
    else:
        signature = signer.sign(timestamp.encode() + body).signature.hex()
        data = payload.get("data")
        name = data.get("name") if isinstance(data, dict) else "ping"
        what = f"signed interaction /{name}" if name != "ping" else "signed PING"
    headers = {
        "Content-Type": "application/json",
        "X-Signature-Ed25519": signature,
        "X-Signature-Timestamp": timestamp,
    }
    sent("POST", target, what)
    response = await post(target, body=body, headers=headers)
    show(response)
    if signer is None:
        require_ok(response, expected=(401,))
        click.echo(
            "The hub refuses wrong signatures, as Discord requires. To send a signed /ask, "
            "run `hub simulate discord --new-key`, configure the hub under test with its "
            "public_key and pass --private-key."
        )
        return
    require_ok(response)
