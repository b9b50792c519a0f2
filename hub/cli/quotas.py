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
@click.option("--usd", type=USD, help="Cost budget in USD (unchanged when omitted).")
@click.option("--tokens", type=TOKENS, help="Token quota (unchanged when omitted).")
@click.option("--clear", is_flag=True, help="Remove this window's budget and token quota.")
@pass_hub
async def quota_set(
    hub: Hub,
    team_name: str,
    member_name: str | None,
    key_id: int | None,
    window: str,
    usd: int | None,
    tokens: int | None,
    clear: bool,
) -> None:
    """Set the budget and/or token quota of a team, member or key: only the flags given
    change; --clear removes both."""
    if clear and (usd is not None or tokens is not None):
        raise click.UsageError("give --clear, or --usd/--tokens, not both")
    if not clear and usd is None and tokens is None:
        raise click.UsageError("give --usd, --tokens or --clear")
    team = await hub.teams.get(team_name)
    scope, scope_id, label = await _scope(hub, team, member_name, key_id)
    current = next(
        (q for q in await hub.teams.quotas_for(scope, scope_id) if q.window == window), None
    )
    if not clear:
        if usd is None and current is not None:
            usd = current.cost_limit_micros
        if tokens is None and current is not None:
            tokens = current.token_limit
    await hub.teams.set_quota(QuotaSpec(scope, scope_id, window, usd, tokens), team_id=team.id)
    budget = "no cost limit" if usd is None else format_usd(usd)
    token_text = "no token limit" if tokens is None else f"{tokens:,} tokens"
    click.echo(f"{label}: {window}ly {budget}, {token_text}.".replace("dayly", "daily"))


@quota.command("delete")
@scoped
@click.option("--window", type=click.Choice(["day", "month"]), default="month", show_default=True)
@pass_hub
async def quota_delete(
    hub: Hub, team_name: str, member_name: str | None, key_id: int | None, window: str
) -> None:
    """Remove the budget and token quota of a team, member or key for one window."""
    team = await hub.teams.get(team_name)
    scope, scope_id, label = await _scope(hub, team, member_name, key_id)
    await hub.teams.set_quota(QuotaSpec(scope, scope_id, window, None, None), team_id=team.id)
    click.echo(f"{label}: no {window}ly limits.".replace("dayly", "daily"))


@quota.command("list")
@click.option("--team", "team_name", required=True)
@pass_hub
async def quota_list(hub: Hub, team_name: str) -> None:
    """The team's quotas and those of its members and keys."""
    team = await hub.teams.get(team_name)
    scopes = [("team", team.id, f"team {team.name}")]
    scopes += [("member", m.id, f"member {m.name}") for m, _ in await hub.members.list(team)]
    scopes += [("key", k.id, f"key {k.id} ({k.prefix})") for k, _ in await hub.keys.list(team)]
    click.echo(f"{'scope':<32} {'window':<7} {'budget':>14} {'tokens':>14}")
    for scope, scope_id, label in scopes:
        for q in await hub.teams.quotas_for(scope, scope_id):
            if q.cost_limit_micros is None and q.token_limit is None:
                continue  # removed with --clear or `hub quota delete`
            cost = format_usd(q.cost_limit_micros) if q.cost_limit_micros is not None else "-"
            tokens = f"{q.token_limit:,}" if q.token_limit is not None else "-"
            click.echo(f"{label:<32} {q.window:<7} {cost:>14} {tokens:>14}")


@click.group()
def limit() -> None:
    """Requests and tokens per minute (shared through Redis when configured)."""


@limit.command("set")
@scoped
@click.option("--rpm", type=click.IntRange(1), help="Requests per minute (unchanged if omitted).")
@click.option("--tpm", type=click.IntRange(1), help="Tokens per minute (unchanged if omitted).")
@click.option("--clear", is_flag=True, help="Remove this scope's limits: the defaults apply.")
@pass_hub
async def limit_set(
    hub: Hub,
    team_name: str,
    member_name: str | None,
    key_id: int | None,
    rpm: int | None,
    tpm: int | None,
    clear: bool,
) -> None:
    """Set per-minute limits of a team, member or key: only the flags given change; --clear
    removes them (the [rate_limits] defaults apply again)."""
    if clear and (rpm is not None or tpm is not None):
        raise click.UsageError("give --clear, or --rpm/--tpm, not both")
    if not clear and rpm is None and tpm is None:
        raise click.UsageError("give --rpm, --tpm or --clear")
    team = await hub.teams.get(team_name)
    scope, scope_id, label = await _scope(hub, team, member_name, key_id)
    if clear:
        await hub.rate_limits.clear(scope=scope, scope_id=scope_id, team_id=team.id)
        click.echo(f"{label}: own limits removed; the [rate_limits] defaults apply.")
        return
    current = await hub.rate_limits.get(scope=scope, scope_id=scope_id)
    rpm = rpm if rpm is not None else (current.rpm if current else None)
    tpm = tpm if tpm is not None else (current.tpm if current else None)
    await hub.rate_limits.set(scope=scope, scope_id=scope_id, team_id=team.id, rpm=rpm, tpm=tpm)
    click.echo(f"{label}: {rpm or 'unlimited'} requests/min, {tpm or 'unlimited'} tokens/min.")


@limit.command("list")
@click.option("--team", "team_name", required=True)
@pass_hub
async def limit_list(hub: Hub, team_name: str) -> None:
    """The per-minute limits of the team, its members and its keys."""
    team = await hub.teams.get(team_name)
    scopes = [("team", team.id, f"team {team.name}")]
    scopes += [("member", m.id, f"member {m.name}") for m, _ in await hub.members.list(team)]
    scopes += [("key", k.id, f"key {k.id} ({k.prefix})") for k, _ in await hub.keys.list(team)]
    defaults = hub.settings.rate_limits
    click.echo(f"{'scope':<32} {'requests/min':>14} {'tokens/min':>14}  source")
    for scope, scope_id, label in scopes:
        row = await hub.rate_limits.get(scope=scope, scope_id=scope_id)
        if row is not None:
            rpm, tpm, source = row.rpm, row.tpm, "own"
        else:
            rpm, tpm = getattr(defaults, f"{scope}_rpm"), getattr(defaults, f"{scope}_tpm")
            source = "default"
        click.echo(f"{label:<32} {rpm or 'unlimited':>14} {tpm or 'unlimited':>14}  {source}")
