"""`hub team`, `hub key` and `hub bind`: the administrative subcommands of the core."""

from __future__ import annotations

import click

from hub.cli.boundary import CliFailure
from hub.cli.context import pass_hub
from hub.cli.params import TOKENS, USD
from hub.cli.table import echo_table
from hub.ledger.money import format_usd
from hub.service import Hub
from hub.store.rekey import rotate_secrets


@click.group()
def team() -> None:
    """Create, list, rename and archive teams."""


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
        return
    rows = []
    for row in teams:
        limits = []
        for quota in await hub.teams.quotas_for("team", row.id):
            if quota.cost_limit_micros is not None:
                limits.append(f"{quota.window} budget {format_usd(quota.cost_limit_micros)}")
            if quota.token_limit is not None:
                limits.append(f"{quota.window} tokens {quota.token_limit:,}")
        state = f"archived {row.archived_at:%Y-%m-%d}" if row.archived_at else "active"
        rows.append((row.id, row.name, state, row.member_policy, ", ".join(limits) or "no limits"))
    echo_table(("id", "name", "state", "policy", "team limits"), rows)


@team.command("rename")
@click.argument("name")
@click.argument("new_name")
@pass_hub
async def team_rename(hub: Hub, name: str, new_name: str) -> None:
    """Rename team NAME to NEW_NAME (keys, members, bindings and usage go with it)."""
    renamed = await hub.teams.rename(await hub.teams.get(name), new_name)
    click.echo(f"Renamed team '{name}' to '{renamed.name}'.")


@team.command("archive")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_hub
async def team_archive(hub: Hub, name: str, yes: bool) -> None:
    """Archive team NAME: its keys stop working, its workspaces are unbound, its hooks and
    subscriptions stop; its usage, invoices and audit log are kept."""
    team_row = await hub.teams.get(name)
    if not yes and not click.confirm(
        f"Archive team '{name}'? Its keys stop working at once.", default=False, err=True
    ):
        raise CliFailure("not archived (confirm, or pass --yes)")
    done = await hub.teams.archive(team_row)
    click.echo(
        f"Archived team '{done.name}': {done.keys_revoked} key(s) revoked, "
        f"{done.bindings_removed} binding(s) removed, {done.subscriptions_disabled} "
        "subscription(s) disabled; its usage and audit log are kept."
    )


@click.command()
@click.argument("platform", type=click.Choice(["slack", "discord"]))
@click.argument("external_id")
@click.option("--team", "team_name", required=True, help="Team that pays for this workspace.")
@pass_hub
async def bind(hub: Hub, platform: str, external_id: str, team_name: str) -> None:
    """Bind a Slack workspace or Discord guild (EXTERNAL_ID) to a team."""
    await hub.bindings.bind(platform, external_id, await hub.teams.get_active(team_name))
    click.echo(f"Bound {platform} {external_id} to team '{team_name}'.")


@team.command("policy")
@click.argument("name")
@click.argument("policy", type=click.Choice(["open", "members_only"]))
@pass_hub
async def team_policy(hub: Hub, name: str, policy: str) -> None:
    """Who may ask from a bound workspace: anyone (open) or only linked members."""
    await hub.teams.set_policy(await hub.teams.get(name), policy)
    click.echo(f"Team '{name}' member policy: {policy}.")


@team.command("two-factor")
@click.argument("name")
@click.argument("rule", type=click.Choice(["required", "optional"]))
@pass_hub
async def team_two_factor(hub: Hub, name: str, rule: str) -> None:
    """Whether the team's members must sign in to the dashboard with a second factor."""
    await hub.two_factor.require(await hub.teams.get(name), rule == "required")
    click.echo(f"Team '{name}': two-factor sign-in to the dashboard is {rule}.")


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
    if off and (platform or channel):
        raise click.UsageError("give --off, or --platform and --channel, not both")
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
