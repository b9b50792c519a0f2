"""`hub team`, `hub key` and `hub bind`: the administrative subcommands of the core."""

from __future__ import annotations

import json

import click

from hub.cli.context import pass_hub
from hub.ledger.money import format_usd, usd_to_micros
from hub.service import Hub


@click.group()
def team() -> None:
    """Create and list teams."""


@team.command("create")
@click.argument("name")
@click.option("--monthly-budget-usd", type=float, help="Monthly cost budget in USD.")
@click.option("--monthly-token-quota", type=int, help="Monthly token quota.")
@pass_hub
async def team_create(
    hub: Hub, name: str, monthly_budget_usd: float | None, monthly_token_quota: int | None
) -> None:
    """Create team NAME."""
    if monthly_budget_usd is not None and monthly_budget_usd < 0:
        raise click.BadParameter("must not be negative", param_hint="--monthly-budget-usd")
    created = await hub.teams.create(
        name,
        monthly_budget_micros=None
        if monthly_budget_usd is None
        else usd_to_micros(monthly_budget_usd),
        monthly_token_quota=monthly_token_quota,
    )
    click.echo(f"Created team '{created.name}' (id {created.id}).")


@team.command("list")
@pass_hub
async def team_list(hub: Hub) -> None:
    """List teams with their monthly limits."""
    teams = await hub.teams.list()
    if not teams:
        click.echo("No teams yet: `hub team create NAME`.")
    for row in teams:
        limits = []
        for quota in await hub.teams.quotas_for("team", row.id):
            if quota.cost_limit_micros is not None:
                limits.append(f"{quota.window} budget {format_usd(quota.cost_limit_micros)}")
            if quota.token_limit is not None:
                limits.append(f"{quota.window} tokens {quota.token_limit:,}")
        click.echo(f"{row.id}\t{row.name}\t{', '.join(limits) or 'no limits'}")


@click.group()
def key() -> None:
    """Create, list and revoke team API keys."""


@key.command("create")
@click.option("--team", "team_name", required=True, help="Team the key spends for.")
@click.option("--name", "label", default="", help="A label to recognise the key by.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_hub
async def key_create(hub: Hub, team_name: str, label: str, as_json: bool) -> None:
    """Create a key; its secret is shown this once."""
    issued = await hub.keys.create(await hub.teams.get(team_name), name=label)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "id": issued.id,
                    "key": issued.key,
                    "team": issued.team,
                    "name": issued.name,
                    "prefix": issued.prefix,
                }
            )
        )
        return
    click.echo(f"Key {issued.id} for team '{issued.team}' ({issued.prefix}...):")
    click.echo(issued.key)
    click.echo("Store it now: it is not shown again.")


@key.command("list")
@click.option("--team", "team_name", help="Only this team's keys.")
@pass_hub
async def key_list(hub: Hub, team_name: str | None) -> None:
    """List keys (prefixes only; secrets are never stored)."""
    team_row = await hub.teams.get(team_name) if team_name else None
    for row, owner in await hub.keys.list(team_row):
        state = "revoked" if row.revoked_at else "active"
        used = row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else "never"
        click.echo(
            f"{row.id}\t{owner}\t{row.prefix}...\t{row.name or '-'}\t{state}\tlast used {used}"
        )


@key.command("revoke")
@click.argument("key_id", type=int)
@pass_hub
async def key_revoke(hub: Hub, key_id: int) -> None:
    """Revoke key KEY_ID at once."""
    row = await hub.keys.revoke(key_id)
    click.echo(f"Revoked key {row.id} ({row.prefix}...).")


@click.command()
@click.argument("platform", type=click.Choice(["slack", "discord"]))
@click.argument("external_id")
@click.option("--team", "team_name", required=True, help="Team that pays for this workspace.")
@pass_hub
async def bind(hub: Hub, platform: str, external_id: str, team_name: str) -> None:
    """Bind a Slack workspace or Discord guild (EXTERNAL_ID) to a team."""
    await hub.bindings.bind(platform, external_id, await hub.teams.get(team_name))
    click.echo(f"Bound {platform} {external_id} to team '{team_name}'.")
