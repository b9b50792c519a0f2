"""`hub member`: a team's people, their roles and their platform accounts."""

from __future__ import annotations

import click

from hub.cli.context import pass_hub
from hub.cli.table import echo_table
from hub.members import LINKABLE
from hub.roles import ROLES
from hub.service import Hub


@click.group()
def member() -> None:
    """Add members, set their roles, link their Slack or Discord accounts."""


@member.command("add")
@click.argument("name")
@click.option("--team", "team_name", required=True)
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@pass_hub
async def member_add(hub: Hub, name: str, team_name: str, role: str) -> None:
    """Add NAME to a team."""
    added = await hub.members.add(await hub.teams.get(team_name), name, role=role)
    click.echo(f"Added {added.name} ({added.role}) to team '{team_name}' (member {added.id}).")


@member.command("list")
@click.option("--team", "team_name", required=True)
@pass_hub
async def member_list(hub: Hub, team_name: str) -> None:
    """List a team's members with their roles and linked accounts."""
    members = await hub.members.list(await hub.teams.get(team_name))
    if not members:
        click.echo(f"No members in team '{team_name}' yet: `hub member add NAME --team TEAM`.")
        return
    with_factor = await hub.two_factor.enrolled(await hub.teams.get(team_name))
    echo_table(
        ("id", "name", "role", "two-factor", "linked accounts"),
        [
            (row.id, row.name, row.role, "on" if row.id in with_factor else "-",
             ", ".join(identities))
            for row, identities in members
        ],
    )  # fmt: skip


@member.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--team", "team_name", required=True)
@pass_hub
async def member_role(hub: Hub, name: str, role: str, team_name: str) -> None:
    """Give member NAME the role ROLE."""
    team = await hub.teams.get(team_name)
    await hub.members.set_role(await hub.members.get(team, name), role)
    click.echo(f"{name} is now {role} in team '{team_name}'.")


@member.command("remove")
@click.argument("name")
@click.option("--team", "team_name", required=True)
@pass_hub
async def member_remove(hub: Hub, name: str, team_name: str) -> None:
    """Remove member NAME (their keys stay, unattached)."""
    team = await hub.teams.get(team_name)
    await hub.members.remove(await hub.members.get(team, name))
    click.echo(f"Removed {name} from team '{team_name}'.")


@member.command("link")
@click.argument("name")
@click.option("--team", "team_name", required=True)
@click.option("--platform", type=click.Choice(LINKABLE), required=True)
@click.option(
    "--user",
    "user_id",
    required=True,
    help="Slack user id (U...), Discord user id, OpenID Connect subject, or email address.",
)
@click.option(
    "--workspace",
    default="",
    help="Slack workspace, Discord guild id (any if empty), or the OpenID Connect issuer.",
)
@pass_hub
async def member_link(
    hub: Hub, name: str, team_name: str, platform: str, user_id: str, workspace: str
) -> None:
    """Link a Slack or Discord account to member NAME, or an identity that signs in to the
    dashboard (an OpenID Connect subject, a verified email)."""
    team = await hub.teams.get(team_name)
    await hub.members.link(
        await hub.members.get(team, name), platform=platform, workspace=workspace, user=user_id
    )
    click.echo(f"Linked {platform} user {user_id} to {name}.")


@member.command("two-factor-reset")
@click.argument("name")
@click.option("--team", "team_name", required=True)
@pass_hub
async def member_two_factor_reset(hub: Hub, name: str, team_name: str) -> None:
    """Remove NAME's two-factor sign-in (a lost phone and lost recovery codes): they set it
    up again at their next dashboard sign-in if the team requires it."""
    member = await hub.members.get(await hub.teams.get(team_name), name)
    if not (await hub.two_factor.state(member)).enrolled:
        click.echo(f"{name} has no two-factor sign-in to reset.")
        return
    await hub.two_factor.remove(member)
    click.echo(f"Removed {name}'s two-factor sign-in; their recovery codes no longer work.")
