"""`hub webhook create|list|rotate-secret|delete`."""

from __future__ import annotations

import json

import click

from connectors.webhooks.config import WebhooksConfig
from hub.cli.context import pass_hub
from hub.cli.table import echo_table
from hub.inbound_hooks import InboundHooks, IssuedHook
from hub.service import Hub


def _hooks(hub: Hub) -> InboundHooks:
    return InboundHooks.for_hub(hub)


def _url(hub: Hub, path: str) -> str:
    """Whole when `[server] public_url` is set, else the path on the hub's public address."""
    return hub.settings.server.public_url + path


def _print_issued(hub: Hub, issued: IssuedHook, as_json: bool, verb: str) -> None:
    hook = issued.hook
    url = _url(hub, hook.url)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "id": hook.id,
                    "url": url,
                    "secret": issued.secret,
                    "team": hook.team_name,
                    "name": hook.name,
                    "model": hook.default_model,
                }
            )
        )
        return
    click.echo(f"{verb} webhook {hook.id} for team '{hook.team_name}'.")
    where = "POST" if url != hook.url else "POST, on this hub's public address: [server] public_url"
    click.echo(f"  url:    {url}   ({where})")
    click.echo(f"  secret: {issued.secret}")
    click.echo("Store the secret now: it is not shown again. Sign with Standard Webhooks.")


@click.group()
def webhook() -> None:
    """Signed inbound webhooks that ask the LLM."""


@webhook.command("create")
@click.option("--team", "team_name", required=True, help="Team that pays for the requests.")
@click.option("--name", "label", default="", help="A label to recognise the hook by.")
@click.option("--model", "alias", help="Model alias used when a request names none.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_hub
async def webhook_create(
    hub: Hub, team_name: str, label: str, alias: str | None, as_json: bool
) -> None:
    """Create a hook; its secret is shown this once."""
    team = await hub.teams.get_active(team_name)
    if alias is not None:
        hub.router.resolve(alias)  # refuses unknown aliases, listing the known ones
    _print_issued(hub, await _hooks(hub).create(team, name=label, model=alias), as_json, "Created")


@webhook.command("list")
@click.option("--team", "team_name", help="Only this team's hooks.")
@pass_hub
async def webhook_list(hub: Hub, team_name: str | None) -> None:
    """List hooks (secrets are never shown again)."""
    team_id = (await hub.teams.get(team_name)).id if team_name else None
    hooks = await _hooks(hub).list(team_id=team_id)
    if not hooks:
        click.echo("No webhooks yet: `hub webhook create --team NAME`.")
        return
    rows = []
    for hook in hooks:
        rotating = None
        if hook.previous_valid_until is not None and hook.previous_valid_until > hub.clock.now():
            rotating = f"{hook.previous_valid_until:%Y-%m-%d %H:%M} UTC"
        model = hook.default_model or "default"
        rows.append((hook.id, hook.team_name, hook.name, model, _url(hub, hook.url), rotating))
    echo_table(("id", "team", "name", "model", "url", "old secret valid until"), rows)


@webhook.command("rotate-secret")
@click.argument("hook_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_hub
async def webhook_rotate(hub: Hub, hook_id: str, as_json: bool) -> None:
    """New secret for HOOK_ID; the old one keeps working for the grace period."""
    grace = WebhooksConfig.model_validate(hub.settings.connector("webhooks")).rotation_grace
    issued = await _hooks(hub).rotate(hook_id, grace=grace)
    _print_issued(hub, issued, as_json, "Rotated")
    if not as_json:
        hours = grace.total_seconds() / 3600
        click.echo(f"The previous secret keeps verifying for {hours:g} hours.")


@webhook.command("delete")
@click.argument("hook_id")
@pass_hub
async def webhook_delete(hub: Hub, hook_id: str) -> None:
    """Delete HOOK_ID; requests to its URL get 404 from now on."""
    await _hooks(hub).delete(hook_id)
    click.echo(f"Deleted webhook {hook_id}.")
