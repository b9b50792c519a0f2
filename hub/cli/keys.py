"""`hub key`: create, list, rotate, restrict and revoke team API keys."""

from __future__ import annotations

import json

import click

from hub.cli.context import parse_duration, parse_moment, pass_hub
from hub.cli.table import echo_table
from hub.ledger.keys import IssuedKey
from hub.roles import ROLES
from hub.service import Hub


@click.group()
def key() -> None:
    """Create, list, rotate, restrict and revoke team API keys."""


def _issued_json(issued: IssuedKey) -> str:
    return json.dumps(
        {
            "id": issued.id,
            "key": issued.key,
            "team": issued.team,
            "name": issued.name,
            "prefix": issued.prefix,
            "role": issued.role,
            "expires_at": issued.expires_at.isoformat() if issued.expires_at else None,
            "previous_valid_until": issued.previous_valid_until.isoformat()
            if issued.previous_valid_until
            else None,
        }
    )


@key.command("create")
@click.option("--team", "team_name", required=True, help="Team the key spends for.")
@click.option("--name", "label", default="", help="A label to recognise the key by.")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option("--member", "member_name", help="Member who holds the key (their quotas apply).")
@click.option("--expires", help="Expiry: a date (2027-01-31) or a duration from now (90d).")
@click.option("--allow-ip", "allow_ip", multiple=True, help="Allowed client network (CIDR).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_hub
async def key_create(
    hub: Hub,
    team_name: str,
    label: str,
    role: str,
    member_name: str | None,
    expires: str | None,
    allow_ip: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create a key; its secret is shown this once."""
    team = await hub.teams.get(team_name)
    member = await hub.members.get(team, member_name) if member_name else None
    issued = await hub.keys.create(
        team,
        name=label,
        role=role,
        member_id=member.id if member else None,
        expires_at=parse_moment(expires, hub.clock.now()) if expires else None,
        ip_allowlist=list(allow_ip),
    )
    if as_json:
        click.echo(_issued_json(issued))
        return
    click.echo(f"Key {issued.id} for team '{issued.team}' ({issued.prefix}..., {issued.role}):")
    click.echo(issued.key)
    click.echo("Store it now: it is not shown again.")


@key.command("list")
@click.option("--team", "team_name", help="Only this team's keys.")
@pass_hub
async def key_list(hub: Hub, team_name: str | None) -> None:
    """List keys (prefixes only; secrets are never stored)."""
    team_row = await hub.teams.get(team_name) if team_name else None
    now = hub.clock.now()
    keys = await hub.keys.list(team_row)
    if not keys:
        click.echo("No keys yet: `hub key create --team NAME`.")
        return
    rows = []
    for row, owner in keys:
        if row.revoked_at:
            state = "revoked"
        elif row.expires_at and row.expires_at <= now:
            state = "expired"
        else:
            state = "active"
        used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
        expires = f"{row.expires_at:%Y-%m-%d %H:%M}" if row.expires_at else "never"
        rows.append((row.id, owner, f"{row.prefix}...", row.name, row.role, state, used, expires))
    echo_table(("id", "team", "prefix", "name", "role", "state", "last used", "expires"), rows)


@key.command("revoke")
@click.argument("key_id", type=int)
@pass_hub
async def key_revoke(hub: Hub, key_id: int) -> None:
    """Revoke key KEY_ID at once."""
    row = await hub.keys.revoke(key_id)
    click.echo(f"Revoked key {row.id} ({row.prefix}...).")


@key.command("rotate")
@click.argument("key_id", type=int)
@click.option("--grace", default="24h", show_default=True, help="How long the old secret works.")
@click.option("--json", "as_json", is_flag=True)
@pass_hub
async def key_rotate(hub: Hub, key_id: int, grace: str, as_json: bool) -> None:
    """A new secret for KEY_ID (same id, limits and budgets); the old one works for --grace."""
    issued = await hub.keys.rotate(key_id, grace=parse_duration(grace))
    if as_json:
        click.echo(_issued_json(issued))
        return
    until = issued.previous_valid_until
    click.echo(f"New secret for key {issued.id} ({issued.prefix}...):")
    click.echo(issued.key)
    click.echo(
        f"The old secret works until {until:%Y-%m-%d %H:%M} UTC."
        if until
        else "The old secret no longer works."
    )


@key.command("restrict")
@click.argument("key_id", type=int)
@click.option("--allow-ip", "allow_ip", multiple=True, help="Allowed client network (CIDR).")
@click.option("--any-ip", is_flag=True, help="Remove the network restriction.")
@click.option("--expires", help="A date (2027-01-31) or a duration from now (90d).")
@click.option("--never-expires", is_flag=True)
@pass_hub
async def key_restrict(
    hub: Hub,
    key_id: int,
    allow_ip: tuple[str, ...],
    any_ip: bool,
    expires: str | None,
    never_expires: bool,
) -> None:
    """Limit KEY_ID to client networks and/or set its expiry."""
    if allow_ip and any_ip:
        raise click.UsageError("give --allow-ip or --any-ip, not both")
    if expires and never_expires:
        raise click.UsageError("give --expires or --never-expires, not both")
    if not (allow_ip or any_ip or expires or never_expires):
        raise click.UsageError(
            "say what to change: --allow-ip, --any-ip, --expires, --never-expires"
        )
    row = await hub.keys.update(
        key_id,
        ip_allowlist=list(allow_ip) if allow_ip or any_ip else None,
        expires_at=parse_moment(expires, hub.clock.now()) if expires else None,
        clear_expiry=never_expires,
    )
    click.echo(f"Key {row.id} updated.")
