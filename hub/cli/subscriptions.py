"""`hub subscription ...`: outbound event subscriptions per team, and their delivery log."""

from __future__ import annotations

import json

import click

from hub.cli.context import pass_hub
from hub.cli.table import echo_table
from hub.events.outbox import EVENT_TYPES
from hub.events.subscriptions import Subscriptions
from hub.service import Hub


@click.group()
def subscription() -> None:
    """Send the hub's events (completion.created, budget.threshold, key.*) to a URL."""


@subscription.command("create")
@click.option("--team", "team_name", required=True, help="Team whose events are sent.")
@click.option("--url", required=True, help="Target URL (https; POSTed signed JSON).")
@click.option("--events", required=True, help=f"Comma-separated: {','.join(EVENT_TYPES)}.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_hub
async def subscription_create(
    hub: Hub, team_name: str, url: str, events: str, as_json: bool
) -> None:
    """Create a subscription; its signing secret is shown this once."""
    team = await hub.teams.get_active(team_name)
    created = await Subscriptions.for_hub(hub).create(
        team_id=team.id, url=url, events=events.split(","), source="cli"
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "id": created.id,
                    "team": team.name,
                    "url": created.url,
                    "events": list(created.events),
                    "secret": created.secret,
                }
            )
        )
        return
    click.echo(f"Subscription {created.id} for team '{team.name}': {', '.join(created.events)}")
    click.echo(f"  -> {created.url}")
    click.echo(f"Signing secret (Standard Webhooks; shown once): {created.secret}")


@subscription.command("list")
@click.option("--team", "team_name", help="Only this team's subscriptions.")
@pass_hub
async def subscription_list(hub: Hub, team_name: str | None) -> None:
    """List subscriptions (secrets are never shown again)."""
    team_id = (await hub.teams.get(team_name)).id if team_name else None
    rows = await Subscriptions.for_hub(hub).list(team_id=team_id)
    if not rows:
        click.echo("No subscriptions yet: `hub subscription create --team NAME --url URL ...`.")
        return
    table = []
    for row in rows:
        state = "active" if row.active else f"disabled ({row.disabled_reason or 'no reason'})"
        table.append((row.id, row.source, row.events.replace(",", ", "), row.url, state))
    echo_table(("id", "source", "events", "url", "state"), table)


@subscription.command("delete")
@click.argument("subscription_id")
@pass_hub
async def subscription_delete(hub: Hub, subscription_id: str) -> None:
    """Delete SUBSCRIPTION_ID; its pending deliveries are cancelled."""
    await Subscriptions.for_hub(hub).delete(subscription_id)
    click.echo(f"Deleted subscription {subscription_id}.")


@subscription.command("deliveries")
@click.argument("subscription_id")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_hub
async def subscription_deliveries(
    hub: Hub, subscription_id: str, limit: int, as_json: bool
) -> None:
    """Delivery log of SUBSCRIPTION_ID, newest attempt first."""
    attempts = await Subscriptions.for_hub(hub).attempts(subscription_id, limit=limit)
    if not attempts and not as_json:
        click.echo("No delivery attempts yet.")
    if not as_json and attempts:
        echo_table(
            ("attempted at", "event", "http", "time", "state", "error"),
            [
                (
                    a.attempted_at,
                    a.event_id,
                    a.status_code,
                    f"{a.duration_ms} ms",
                    a.delivery_status,
                    a.error,
                )
                for a in attempts
            ],
        )
        return
    for a in attempts:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "event_id": a.event_id,
                        "status": a.delivery_status,
                        "attempted_at": a.attempted_at,
                        "status_code": a.status_code,
                        "error": a.error,
                        "duration_ms": a.duration_ms,
                    }
                )
            )
        else:
            code = a.status_code if a.status_code is not None else "-"
            click.echo(
                f"{a.attempted_at}\t{a.event_id}\t{code}\t{a.duration_ms} ms\t"
                f"{a.delivery_status}\t{a.error or ''}"
            )
