"""`hub usage`: what was spent, by whom, on what; text, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from hub.cli.context import pass_hub
from hub.errors import HubError
from hub.ledger.money import format_usd
from hub.ledger.reports import GroupBy, UsageTotals
from hub.service import Hub


@click.command()
@click.option("--team", "team_name", help="Only this team (default: all teams).")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="From this UTC date (default: the start of this month).",
)
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Up to this UTC date, not included (default: now).",
)
@click.option("--month", type=click.DateTime(formats=["%Y-%m"]), help="One UTC month: YYYY-MM.")
@click.option(
    "--by",
    "group_by",
    type=click.Choice(["model", "user", "connector", "day", "status", "key"]),
)
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True)
@pass_hub
async def usage(
    hub: Hub,
    team_name: str | None,
    since: datetime | None,
    until: datetime | None,
    month: datetime | None,
    group_by: GroupBy | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Requests, tokens and cost (this month unless --since, --until or --month)."""
    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    start, end = _window(hub, since=since, until=until, month=month)
    team_id = (await hub.teams.get(team_name)).id if team_name else None
    totals = await hub.usage.totals(team_id=team_id, since=start, until=end)
    groups = (
        await hub.usage.grouped(group_by, team_id=team_id, since=start, until=end)
        if group_by
        else []
    )
    if group_by == "key":
        groups = [(await _key_label(hub, k), t) for k, t in groups]
    header: dict[str, Any] = {"team": team_name, "since": start.date().isoformat()}
    if end is not None:
        header["until"] = end.date().isoformat()
    if month is not None:
        header["month"] = month.strftime("%Y-%m")
    if as_json:
        out: dict[str, Any] = {**header, **_json(totals)}
        if group_by:
            out["by"] = group_by
            out["groups"] = [{"key": k, **_json(t)} for k, t in groups]
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
        until_text = f" until {header['until']}" if "until" in header else ""
        click.echo(f"Usage for {who} since {header['since']}{until_text}:")
        click.echo(f"  {group_by or '':<30} {'requests':>10}  {'tokens':>14}  {'cost':>12}")
        for name, t in [*groups, ("total", totals)]:
            tokens = t.prompt_tokens + t.completion_tokens
            click.echo(
                f"  {name:<30} {t.requests:>10}  {tokens:>14,}  {format_usd(t.cost_micros):>12}"
            )
        if totals.cached_requests:
            share = totals.cached_requests / totals.requests
            click.echo(
                f"  response cache: {totals.cached_requests} hits ({share:.0%} of requests), "
                f"saved {format_usd(totals.saved_micros)} of provider cost"
            )


def _window(
    hub: Hub, *, since: datetime | None, until: datetime | None, month: datetime | None
) -> tuple[datetime, datetime | None]:
    """The UTC interval asked for: [start, end), end None meaning now."""
    if month is not None:
        if since is not None or until is not None:
            raise click.UsageError("give --month, or --since/--until, not both")
        first = month.replace(day=1, tzinfo=UTC)
        return first, (first + timedelta(days=32)).replace(day=1)
    start = since.replace(tzinfo=UTC) if since else hub.usage.month_start()
    end = until.replace(tzinfo=UTC) if until else None
    if end is not None and end <= start:
        raise click.UsageError(f"--until {end.date()} is not after the start, {start.date()}")
    return start, end


async def _key_label(hub: Hub, key_id: str) -> str:
    """`--by key` groups by key id; show which key it is (`7 (ci, uh-ab12…)`)."""
    if not key_id.isdigit():
        return key_id  # requests without a key (chat platforms)
    try:
        row = await hub.keys.get(int(key_id))
    except HubError:
        return key_id
    return f"{key_id} ({row.name}, {row.prefix}…)"


def _json(totals: UsageTotals) -> dict[str, Any]:
    """The totals, with the cached (of prompt) and reasoning (of completion) tokens."""
    return {
        **totals.as_json(),
        "cached_tokens": totals.cached_tokens,
        "reasoning_tokens": totals.reasoning_tokens,
    }
