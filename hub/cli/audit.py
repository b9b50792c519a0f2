"""`hub audit`: the append-only record of administrative changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from hub.cli.context import pass_hub
from hub.cli.table import echo_table
from hub.service import Hub


@click.command()
@click.option("--team", "team_name")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_hub
async def audit(hub: Hub, team_name: str | None, since: datetime | None, as_json: bool) -> None:
    """Who changed what, when, with before and after values (secrets redacted)."""
    team_id = (await hub.teams.get(team_name)).id if team_name else None
    entries = await hub.audit.entries(
        team_id=team_id, since=since.replace(tzinfo=UTC) if since else None
    )
    if as_json:
        for entry in entries:
            click.echo(json.dumps(entry.as_json()))
        return
    if not entries:
        click.echo("No audited changes yet.")
        return
    echo_table(
        ("time (UTC)", "actor", "action", "target", "after"),
        [
            (
                f"{entry.at:%Y-%m-%d %H:%M:%S}",
                entry.actor,
                entry.action,
                entry.target,
                json.dumps(entry.after) if entry.after is not None else "removed",
            )
            for entry in entries
        ],
    )
