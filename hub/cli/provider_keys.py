"""`hub provider-key`: a team's own provider credentials (read from stdin, never shown)."""

from __future__ import annotations

import sys

import click

from hub.cli.context import pass_hub
from hub.cli.table import echo_table
from hub.service import Hub


@click.group("provider-key")
def provider_key() -> None:
    """A team's own credentials for a provider (bring your own key)."""


@provider_key.command("set")
@click.option("--team", "team_name", required=True)
@click.option("--provider", required=True, help="A provider name from the config.")
@pass_hub
async def provider_key_set(hub: Hub, team_name: str, provider: str) -> None:
    """Read the key from standard input and store it encrypted."""
    secret = sys.stdin.readline().strip()
    await hub.provider_keys.set(await hub.teams.get(team_name), provider, secret)
    click.echo(f"Team '{team_name}' now uses its own key for '{provider}'.")


@provider_key.command("list")
@click.option("--team", "team_name", required=True)
@pass_hub
async def provider_key_list(hub: Hub, team_name: str) -> None:
    """Providers for which the team has its own key (the keys are never shown)."""
    names = await hub.provider_keys.providers_with_keys(await hub.teams.get(team_name))
    if not names:
        click.echo(f"Team '{team_name}' uses the hub's own provider keys.")
        return
    echo_table(("provider", "key"), [(name, "the team's own (never shown)") for name in names])


@provider_key.command("delete")
@click.option("--team", "team_name", required=True)
@click.option("--provider", required=True)
@pass_hub
async def provider_key_delete(hub: Hub, team_name: str, provider: str) -> None:
    """Go back to the hub's own key for this provider."""
    await hub.provider_keys.delete(await hub.teams.get(team_name), provider)
    click.echo(f"Team '{team_name}' uses the hub's key for '{provider}' again.")
