"""`hub team`, `hub key` and `hub bind`: the administrative subcommands of the core."""

from __future__ import annotations

import click

from hub.cli.context import pass_hub
from hub.cli.params import TOKENS, USD
from hub.ledger.money import format_usd
from hub.service import Hub
from hub.store.rekey import rotate_secrets


@click.group()
def team() -> None:
    """Create and list teams."""


@team.command("create")
@click.argument("name")
@click.option("--monthly-budget-usd", type=USD, help="Monthly cost budget in USD.")
@click.option("--monthly-token-quota", type=TOKENS, help="Monthly token quota.")
@pass_hub
async def team_create(
    hub: Hub, name: str, monthly_budget_usd: int | None, monthly_token_quota: int | None
) -> None:
    """Create team NAME."""
    created = await hub.teams.create(
        name, monthly_budget_micros=monthly_budget_usd, monthly_token_quota=monthly_token_quota
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


@click.command()
@click.argument("platform", type=click.Choice(["slack", "discord"]))
@click.argument("external_id")
@click.option("--team", "team_name", required=True, help="Team that pays for this workspace.")
@pass_hub
async def bind(hub: Hub, platform: str, external_id: str, team_name: str) -> None:
    """Bind a Slack workspace or Discord guild (EXTERNAL_ID) to a team."""
    await hub.bindings.bind(platform, external_id, await hub.teams.get(team_name))
    click.echo(f"Bound {platform} {external_id} to team '{team_name}'.")


@team.command("policy")
@click.argument("name")
@click.argument("policy", type=click.Choice(["open", "members_only"]))
@pass_hub
async def team_policy(hub: Hub, name: str, policy: str) -> None:
    """Who may ask from a bound workspace: anyone (open) or only linked members."""
    await hub.teams.set_policy(await hub.teams.get(name), policy)
    click.echo(f"Team '{name}' member policy: {policy}.")


@team.command("notify")
@click.argument("name")
@click.option("--platform", type=click.Choice(["slack", "discord"]))
@click.option("--channel", help="Channel id for budget notices.")
@click.option("--off", is_flag=True, help="Stop posting budget notices.")
@pass_hub
async def team_notify(
    hub: Hub, name: str, platform: str | None, channel: str | None, off: bool
) -> None:
    """Post budget notices (80%, 100%) to a Slack or Discord channel."""
    if not off and not (platform and channel):
        raise click.UsageError("give --platform and --channel, or --off")
    await hub.teams.set_notice_channel(
        await hub.teams.get(name),
        platform=None if off else platform,
        channel=None if off else channel,
    )
    click.echo(f"Team '{name}' budget notices: {'off' if off else f'{platform} {channel}'}.")


@click.command("rotate-secrets")
@pass_hub
async def rotate_secrets_command(hub: Hub) -> None:
    """Re-encrypt stored secrets with the first HUB_SECRET_KEY (after adding a new key)."""
    count = await rotate_secrets(hub.sessions, hub.secrets)
    click.echo(
        f"Re-encrypted {count} stored secret{'s' if count != 1 else ''} with the newest key."
    )
