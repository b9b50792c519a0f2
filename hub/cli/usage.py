"""`hub usage`: what was spent, by whom, on what; text, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import click

from hub.cli.context import pass_hub
from hub.ledger.money import format_usd
from hub.ledger.reports import GroupBy
from hub.service import Hub


@click.command()
@click.option("--team", "team_name", help="Only this team (default: all teams).")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="From this UTC date (default: the start of this month).",
)
@click.option(
    "--by", "group_by", type=click.Choice(["model", "user", "connector", "day", "status"])
)
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True)
@pass_hub
async def usage(
    hub: Hub,
    team_name: str | None,
    since: datetime | None,
    group_by: GroupBy | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Requests, tokens and cost (this month unless --since)."""
    team_id = (await hub.teams.get(team_name)).id if team_name else None
    start = since.replace(tzinfo=UTC) if since else hub.usage.month_start()
    totals = await hub.usage.totals(team_id=team_id, since=start)
    groups = await hub.usage.grouped(group_by, team_id=team_id, since=start) if group_by else []
    header: dict[str, Any] = {"team": team_name, "since": start.date().isoformat()}
    if as_json:
        out: dict[str, Any] = {**header, **totals.as_json()}
        if group_by:
            out["by"] = group_by
            out["groups"] = [{"key": k, **t.as_json()} for k, t in groups]
        click.echo(json.dumps(out))
    elif as_csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [group_by or "total", "requests", "prompt_tokens", "completion_tokens", "cost_usd"]
        )
        rows = groups if group_by else [("total", totals)]
        for name, t in rows:
            j = t.as_json()
            writer.writerow(
                [name, j["requests"], j["prompt_tokens"], j["completion_tokens"], j["cost_usd"]]
            )
        click.echo(buffer.getvalue(), nl=False)
    else:
        who = f"team '{team_name}'" if team_name else "all teams"
        click.echo(f"Usage for {who} since {header['since']}:")
        for name, t in [*groups, ("total", totals)]:
            tokens = t.prompt_tokens + t.completion_tokens
            click.echo(
                f"  {name:<30} {t.requests:>6} req  {tokens:>10,} tok"
                f"  {format_usd(t.cost_micros):>12}"
            )
        if totals.cached_requests:
            share = totals.cached_requests / totals.requests
            click.echo(
                f"  response cache: {totals.cached_requests} hits ({share:.0%} of requests), "
                f"saved {format_usd(totals.saved_micros)} of provider cost"
            )
