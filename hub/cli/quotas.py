"""`hub quota` and `hub limit`: budgets per day or month, and requests/tokens per minute, on a
team, one of its members, or one of its keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from hub.cli.context import pass_hub
from hub.cli.params import TOKENS, USD
from hub.ledger.money import format_usd
from hub.ledger.teams import QuotaSpec
from hub.service import Hub
from hub.store.ledger_tables import Team


async def _scope(
    hub: Hub, team: Team, member_name: str | None, key_id: int | None
) -> tuple[str, int, str]:
    if member_name and key_id:
        raise click.UsageError("give --member or --key, not both")
    if member_name:
        found = await hub.members.get(team, member_name)
        return "member", found.id, f"member {member_name}"
    if key_id is not None:
        row = await hub.keys.get(key_id)
        if row.team_id != team.id:
            raise click.UsageError(f"key {key_id} does not belong to team '{team.name}'")
        return "key", key_id, f"key {key_id}"
    return "team", team.id, f"team '{team.name}'"


F = TypeVar("F", bound=Callable[..., Any])
_scope_options = [
    click.option("--team", "team_name", required=True),
    click.option("--member", "member_name", help="A member of the team."),
    click.option("--key", "key_id", type=int, help="One of the team's keys."),
]


def scoped(func: F) -> F:
    """The --team/--member/--key options every scoped command takes."""
    for option in reversed(_scope_options):
        func = option(func)
    return func


@click.group()
def quota() -> None:
    """Cost budgets and token quotas per day or month (UTC)."""


@quota.command("set")
@scoped
@click.option("--window", type=click.Choice(["day", "month"]), default="month", show_default=True)
@click.option("--usd", type=USD, help="Cost budget in USD (omit for no cost limit).")
@click.option("--tokens", type=TOKENS, help="Token quota (omit for no token limit).")
@pass_hub
async def quota_set(
    hub: Hub,
    team_name: str,
    member_name: str | None,
    key_id: int | None,
    window: str,
    usd: int | None,
    tokens: int | None,
) -> None:
    """Set the budget and/or token quota of a team, member or key."""
    team = await hub.teams.get(team_name)
    scope, scope_id, label = await _scope(hub, team, member_name, key_id)
    spec = QuotaSpec(scope, scope_id, window, usd, tokens)
    await hub.teams.set_quota(spec, team_id=team.id)
    budget = "no cost limit" if usd is None else f"{format_usd(spec.cost_limit_micros or 0)}"
    token_text = "no token limit" if tokens is None else f"{tokens:,} tokens"
    click.echo(f"{label}: {window}ly {budget}, {token_text}.".replace("dayly", "daily"))


@quota.command("list")
@click.option("--team", "team_name", required=True)
@pass_hub
async def quota_list(hub: Hub, team_name: str) -> None:
    """The team's quotas and those of its members and keys."""
    team = await hub.teams.get(team_name)
    scopes = [("team", team.id, f"team {team.name}")]
    scopes += [("member", m.id, f"member {m.name}") for m, _ in await hub.members.list(team)]
    scopes += [("key", k.id, f"key {k.id} ({k.prefix})") for k, _ in await hub.keys.list(team)]
    for scope, scope_id, label in scopes:
        for q in await hub.teams.quotas_for(scope, scope_id):
            cost = format_usd(q.cost_limit_micros) if q.cost_limit_micros is not None else "-"
            tokens = f"{q.token_limit:,}" if q.token_limit is not None else "-"
            click.echo(f"{label}\t{q.window}\tbudget {cost}\ttokens {tokens}")


@click.group()
def limit() -> None:
    """Requests and tokens per minute (shared through Redis when configured)."""


@limit.command("set")
@scoped
@click.option("--rpm", type=int, help="Requests per minute.")
@click.option("--tpm", type=int, help="Tokens per minute.")
@pass_hub
async def limit_set(
    hub: Hub,
    team_name: str,
    member_name: str | None,
    key_id: int | None,
    rpm: int | None,
    tpm: int | None,
) -> None:
    """Set per-minute limits of a team, member or key (omitted: unlimited)."""
    team = await hub.teams.get(team_name)
    scope, scope_id, label = await _scope(hub, team, member_name, key_id)
    await hub.rate_limits.set(scope=scope, scope_id=scope_id, team_id=team.id, rpm=rpm, tpm=tpm)
    click.echo(f"{label}: {rpm or 'unlimited'} requests/min, {tpm or 'unlimited'} tokens/min.")
